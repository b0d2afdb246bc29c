"""Compute Engine VPC firewall rules: insert, get, list, patch, delete.

The rules GKE creates for each cluster (`gke_derived`) are listed with the project's own; GKE
reconciles them, so a patch or delete of one completes and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument
from sandbox.gcp.compute.common import (
    activate_effect,
    check_name,
    exists,
    forget_effect,
    guard,
    link,
    list_response,
    merge_effect,
    missing,
    new_id,
    public,
    relative,
    start_operation,
    timestamp,
    visible,
)
from sandbox.gcp.compute.gke_derived import firewall_rules
from sandbox.gcp.compute.networks import FIREWALLS, find_network
from sandbox.operations import make_effect

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
        for rule in firewall_rules(call.rt, pid)
    ]


def _all(call: Call, pid: str) -> list[dict[str, Any]]:
    own = [public(doc) for doc in call.rt.store.values(FIREWALLS, f"{pid}/") if visible(doc)]
    return sorted([*own, *_gke_rules(call, pid)], key=lambda rule: str(rule["name"]))


def _find(call: Call, pid: str) -> dict[str, Any]:
    name = call.params["firewall"]
    for rule in _all(call, pid):
        if rule["name"] == name:
            return rule
    raise missing(_path(pid, name))


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
    project = guard(call)
    pid = project["projectId"]
    body = call.body
    name = check_name(body.get("name"))
    network_ref = relative(
        str(body.get("network") or "global/networks/default"), pid, "resource.network"
    )
    if not find_network(call, pid, network_ref.rsplit("/", 1)[-1]):
        raise missing(network_ref)
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
    path = _path(pid, name)
    key = f"{pid}/{name}"
    rt = call.rt
    with rt.store.transaction():
        taken = any(rule["name"] == name for rule in _gke_rules(call, pid))
        if taken or rt.store.get(FIREWALLS, key) is not None:
            raise exists(path)
        ident = new_id(rt)
        rt.store.put(
            FIREWALLS,
            key,
            {
                **defaults,
                **body,
                "kind": "compute#firewall",
                "id": ident,
                "creationTimestamp": timestamp(rt),
                "network": link(network_ref),
                "selfLink": link(path),
                "_pending": True,
            },
        )
        return start_operation(
            call,
            project,
            scope="global",
            operation_type="insert",
            target=path,
            target_id=ident,
            effect=activate_effect(FIREWALLS, key),
            failure_effect=forget_effect(FIREWALLS, key),
        )


@HANDLERS("compute.firewalls.get")
def get(call: Call) -> dict[str, Any]:
    return _find(call, guard(call)["projectId"])


@HANDLERS("compute.firewalls.list")
def list_(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    path = f"projects/{pid}/global/firewalls"
    return list_response(call, "compute#firewallList", path, _all(call, pid))


@HANDLERS("compute.firewalls.patch")
def patch(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    rule = _find(call, pid)
    fields = {key: value for key, value in call.body.items() if key in _MUTABLE}
    if "allowed" in fields or "denied" in fields:
        _check_rules({**rule, **{k: fields.get(k) for k in ("allowed", "denied") if k in fields}})
    key = f"{pid}/{rule['name']}"
    stored = call.rt.store.get(FIREWALLS, key) is not None
    return start_operation(
        call,
        project,
        scope="global",
        operation_type="patch",
        target=_path(pid, rule["name"]),
        target_id=rule["id"],
        effect=merge_effect(FIREWALLS, key, fields) if stored else _noop(),
    )


@HANDLERS("compute.firewalls.delete")
def delete(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    rule = _find(call, pid)
    key = f"{pid}/{rule['name']}"
    stored = call.rt.store.get(FIREWALLS, key) is not None
    return start_operation(
        call,
        project,
        scope="global",
        operation_type="delete",
        target=_path(pid, rule["name"]),
        target_id=rule["id"],
        effect=(make_effect("store.delete", collection=FIREWALLS, key=key) if stored else _noop()),
    )


def _noop() -> dict[str, Any]:
    # GKE puts its own rules back at once: the operation completes with nothing changed.
    return make_effect("compute.merge", collection=FIREWALLS, key="", fields={})
