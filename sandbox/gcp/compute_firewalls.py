"""Compute Engine firewall rules: get and list of the rules GKE creates for each cluster
(`compute_gke`)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute import guard, link, list_response, missing
from sandbox.gcp.compute_gke import firewall_rules

HANDLERS = Handlers("compute.v1")


def _views(call: Call, pid: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": "compute#firewall",
            **rule,
            "selfLink": link(f"projects/{pid}/global/firewalls/{rule['name']}"),
        }
        for rule in firewall_rules(call.rt, pid)
    ]


@HANDLERS("compute.firewalls.get")
def get(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    for rule in _views(call, pid):
        if rule["name"] == call.params["firewall"]:
            return rule
    raise missing(f"projects/{pid}/global/firewalls/{call.params['firewall']}")


@HANDLERS("compute.firewalls.list")
def list_(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    path = f"projects/{pid}/global/firewalls"
    return list_response(call, "compute#firewallList", path, _views(call, pid))
