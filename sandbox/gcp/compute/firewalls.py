"""Compute Engine VPC firewall rules: insert, get, list, patch, delete.

The rules GKE creates for each cluster (registered in `derived`) are listed with the project's
own; GKE reconciles them, so a patch or delete of one completes and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.effects import make_effect
from sandbox.errors import invalid_argument
from sandbox.gcp.compute import derived
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import (
    guard,
    link,
    merge_effect,
    public,
    visible,
)
from sandbox.gcp.compute.networks import referenced_network
from sandbox.gcp.compute.stored import FIREWALLS

HANDLERS = Handlers("compute.v1")
_MUTABLE = {
    "allowed",
    "denied",
    "description",
    "destinationRanges",
    "disabled",
    "logConfig",
    "priority",
    "sourceRanges",
    "sourceServiceAccounts",
    "sourceTags",
    "targetServiceAccounts",
    "targetTags",
}

latency.declare(
    {
        "compute.firewalls.insert": (8.0, 20.0),
        "compute.firewalls.patch": (8.0, 20.0),
        "compute.firewalls.delete": (8.0, 20.0),
    }
)


def _path(pid: str, name: str) -> str:
    return f"projects/{pid}/global/firewalls/{name}"


def _gke_rules(call: Call, pid: str) -> list[dict[str, Any]]:
    return [
        {"kind": "compute#firewall", **rule, "selfLink": link(_path(pid, rule["name"]))}
        for rule in derived.firewall_rules(call.rt, pid)
    ]


def _all(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    own = [public(doc) for doc in call.rt.store.values(FIREWALLS, f"{pid}/") if visible(doc)]
    rules = sorted([*own, *_gke_rules(call, pid)], key=lambda rule: str(rule["name"]))
    return [("", rule) for rule in rules]


COLLECTION = Collection("firewalls", "firewall", "global", store=FIREWALLS, source=_all)
COLLECTION.serve_reads(HANDLERS)


def _check_rules(body: dict[str, Any]) -> None:
    if bool(body.get("allowed")) == bool(body.get("denied")):
        raise invalid_argument(
            "Invalid value for field 'resource': exactly one of 'allowed' or 'denied' must be "
            "specified.",
            "resource",
        )
    for field in ("allowed", "denied"):
        for index, rule in enumerate(body.get(field) or []):
            if not rule.get("IPProtocol"):
                raise invalid_argument(
                    f"Required field 'resource.{field}[{index}].IPProtocol' not specified",
                    f"resource.{field}[{index}].IPProtocol",
                )


@HANDLERS("compute.firewalls.insert")
def insert(call: Call) -> dict[str, Any]:
    project, name = COLLECTION.inserting(call)
    pid, body = project["projectId"], call.body
    network_ref = referenced_network(
        call, pid, str(body.get("network") or "global/networks/default")
    )
    _check_rules(body)
    direction = body.get("direction") or "INGRESS"
    defaults: dict[str, Any] = {
        "priority": 1000,
        "direction": direction,
        "logConfig": {"enable": False},
        "disabled": False,
    }
    sources = ("sourceRanges", "sourceTags", "sourceServiceAccounts")
    if direction == "INGRESS" and not any(body.get(field) for field in sources):
        defaults["sourceRanges"] = ["0.0.0.0/0"]
    if direction == "EGRESS" and not body.get("destinationRanges"):
        defaults["destinationRanges"] = ["0.0.0.0/0"]
    taken = any(rule["name"] == name for rule in _gke_rules(call, pid))

    def document(ident: str, path: str) -> dict[str, Any]:
        return {
            **defaults,
            **body,
            **COLLECTION.created(call.rt, ident),
            "network": link(network_ref),
            "selfLink": link(path),
        }

    return COLLECTION.insert(call, project, name, document, taken=taken)


@HANDLERS("compute.firewalls.patch")
def patch(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    rule = COLLECTION.get(call)
    fields = {key: value for key, value in call.body.items() if key in _MUTABLE}
    if "allowed" in fields or "denied" in fields:
        _check_rules({**rule, **{k: fields.get(k) for k in ("allowed", "denied") if k in fields}})
    key = f"{pid}/{rule['name']}"
    stored = call.rt.store.get(FIREWALLS, key) is not None
    effect = merge_effect(FIREWALLS, key, fields) if stored else _noop()
    return COLLECTION.operate(call, project, rule, "patch", effect)


@HANDLERS("compute.firewalls.delete")
def delete(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    rule = COLLECTION.get(call)
    key = f"{pid}/{rule['name']}"
    stored = call.rt.store.get(FIREWALLS, key) is not None
    effect = make_effect("store.delete", collection=FIREWALLS, key=key) if stored else _noop()
    return COLLECTION.operate(call, project, rule, "delete", effect)


def _noop() -> dict[str, Any]:
    # GKE puts its own rules back at once: the operation completes with nothing changed.
    return make_effect("compute.merge", collection=FIREWALLS, key="", fields={})
