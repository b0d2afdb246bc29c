"""Compute Engine VPC networks: insert, get, list, patch, delete."""

from __future__ import annotations

from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument
from sandbox.gcp.compute.common import (
    check_name,
    exists,
    fingerprint,
    forget_effect,
    guard,
    in_use,
    link,
    list_response,
    merge_effect,
    missing,
    new_id,
    path_of,
    public,
    start_operation,
    timestamp,
    unchanged,
    visible,
)
from sandbox.gcp.compute.geography import AUTO_RANGES
from sandbox.gcp.container.naming import digest
from sandbox.operations import effect, make_effect
from sandbox.runtime import Runtime

HANDLERS = Handlers("compute.v1")
NETWORKS = "compute.networks"  # key: "<project>/<name>"
SUBNETWORKS = "compute.subnetworks"  # key: "<project>/<region>/<name>"
ROUTERS = "compute.routers"  # key: "<project>/<region>/<name>"
FIREWALLS = "compute.firewalls"  # key: "<project>/<name>"
_MUTABLE = {
    "routingConfig",
    "mtu",
    "description",
    "networkFirewallPolicyEnforcementOrder",
    "enableUlaInternalIpv6",
    "internalIpv6Range",
}

latency.declare(
    {
        "compute.networks.insert": (20.0, 40.0),
        "compute.networks.patch": (10.0, 25.0),
        "compute.networks.delete": (12.0, 25.0),
    }
)


def network_path(project_id: str, name: str) -> str:
    """`projects/P/global/networks/N`."""
    return f"projects/{project_id}/global/networks/{name}"


def find_network(call: Call, project_id: str, name: str) -> dict[str, Any] | None:
    """A visible network, or None."""
    doc = call.rt.store.get(NETWORKS, f"{project_id}/{name}")
    return doc if visible(doc) else None


def _view(call: Call, project_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    body = public(doc)
    routing = body.get("routingConfig")
    if isinstance(routing, dict) and "bgpBestPathSelectionMode" not in routing:
        body["routingConfig"] = {**routing, "bgpBestPathSelectionMode": "LEGACY"}
    own = link(network_path(project_id, doc["name"]))
    subnets = [
        sub["selfLink"]
        for sub in call.rt.store.values(SUBNETWORKS, f"{project_id}/")
        if visible(sub) and sub["network"] == own
    ]
    if subnets:
        body["subnetworks"] = subnets
    # Imported here: gke_derived reads GKE's state, whose modules import this one.
    from sandbox.gcp.compute.gke_derived import peerings  # noqa: PLC0415

    peered = peerings(call.rt, project_id, own)
    if peered:
        body["peerings"] = peered
    return body


@HANDLERS("compute.networks.insert")
def insert(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    body = call.body
    name = check_name(body.get("name"))
    if "autoCreateSubnetworks" not in body:
        raise invalid_argument(
            "Invalid value for field 'resource.autoCreateSubnetworks': ''. Legacy networks are "
            "not supported; set autoCreateSubnetworks.",
            "resource.auto_create_subnetworks",
        )
    path = network_path(pid, name)
    key = f"{pid}/{name}"
    rt = call.rt
    with rt.store.transaction():
        if rt.store.get(NETWORKS, key) is not None:
            raise exists(path)
        ident = new_id(rt)
        doc = {
            "routingConfig": {"routingMode": "REGIONAL"},
            "mtu": 1460,
            "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
            **body,
            "kind": "compute#network",
            "id": ident,
            "creationTimestamp": timestamp(rt),
            "selfLink": link(path),
            "selfLinkWithId": link(f"projects/{pid}/global/networks/{ident}"),
            "_pending": True,
        }
        rt.store.put(NETWORKS, key, doc)
        return start_operation(
            call,
            project,
            scope="global",
            operation_type="insert",
            target=path,
            target_id=ident,
            effect=make_effect("compute.networkReady", project=pid, name=name),
            failure_effect=forget_effect(NETWORKS, key),
        )


@effect("compute.networkReady")
def _ready(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    """The network becomes visible; in auto mode with one subnet per region, named after it."""
    pid, name = args["project"], args["name"]
    doc = rt.store.get(NETWORKS, f"{pid}/{name}")
    if doc is None:
        return None
    doc.pop("_pending", None)
    rt.store.put(NETWORKS, f"{pid}/{name}", doc)
    if doc.get("autoCreateSubnetworks"):
        for region, cidr in AUTO_RANGES.items():
            _auto_subnet(rt, doc, pid, region, cidr)
    return None


def _auto_subnet(rt: Runtime, network: dict[str, Any], pid: str, region: str, cidr: str) -> None:
    name = network["name"]
    path = f"projects/{pid}/regions/{region}/subnetworks/{name}"
    rt.store.put(
        SUBNETWORKS,
        f"{pid}/{region}/{name}",
        {
            "kind": "compute#subnetwork",
            "id": new_id(rt),
            "creationTimestamp": timestamp(rt),
            "name": name,
            "network": network["selfLink"],
            "ipCidrRange": cidr,
            "gatewayAddress": cidr.replace(".0/20", ".1"),
            "region": link(f"projects/{pid}/regions/{region}"),
            "selfLink": link(path),
            "privateIpGoogleAccess": False,
            "privateIpv6GoogleAccess": "DISABLE_GOOGLE_ACCESS",
            "purpose": "PRIVATE",
            "stackType": "IPV4_ONLY",
            "state": "READY",
            "fingerprint": fingerprint(),
            "_auto": True,
        },
    )


@HANDLERS("compute.networks.get")
def get(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    doc = find_network(call, pid, call.params["network"])
    if doc is None:
        raise missing(network_path(pid, call.params["network"]))
    return _view(call, pid, doc)


@HANDLERS("compute.networks.list")
def list_(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    items = [
        _view(call, pid, doc) for doc in call.rt.store.values(NETWORKS, f"{pid}/") if visible(doc)
    ]
    return list_response(call, "compute#networkList", f"projects/{pid}/global/networks", items)


@HANDLERS("compute.networks.patch")
def patch(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    name = call.params["network"]
    doc = find_network(call, pid, name)
    path = network_path(pid, name)
    if doc is None:
        raise missing(path)
    unchanged(public(doc), call.body, _MUTABLE, "network")
    fields = {key: value for key, value in call.body.items() if key in _MUTABLE}
    if fields.get("enableUlaInternalIpv6") and not doc.get("internalIpv6Range"):
        # Google assigns a /48 of its ULA block fd20::/20 when none is asked for.
        block = int(digest(doc["id"], "ula")[:7], 16) & 0xFFFFFFF
        fields.setdefault("internalIpv6Range", f"fd20:{block >> 16:03x}:{block & 0xFFFF:x}::/48")
    return start_operation(
        call,
        project,
        scope="global",
        operation_type="patch",
        target=path,
        target_id=doc["id"],
        effect=merge_effect(NETWORKS, f"{pid}/{name}", fields),
    )


@HANDLERS("compute.networks.delete")
def delete(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    name = call.params["network"]
    doc = find_network(call, pid, name)
    path = network_path(pid, name)
    if doc is None:
        raise missing(path)
    return start_operation(
        call,
        project,
        scope="global",
        operation_type="delete",
        target=path,
        target_id=doc["id"],
        effect=make_effect("compute.networkGone", project=pid, name=name),
    )


@effect("compute.networkGone")
def _gone(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    """The network goes, with the subnets auto mode made for it; a network still in use fails
    the operation (Compute reports it there, not in the DELETE's answer)."""
    pid, name = args["project"], args["name"]
    own = link(network_path(pid, name))
    for collection in (SUBNETWORKS, ROUTERS, FIREWALLS):
        for user in rt.store.values(collection, f"{pid}/"):
            if user.get("network") == own and not user.get("_auto"):
                raise in_use(network_path(pid, name), path_of(user["selfLink"]))
    for key, subnet in rt.store.items(SUBNETWORKS, f"{pid}/"):
        if subnet.get("_auto") and subnet.get("network") == own:
            rt.store.delete(SUBNETWORKS, key)
    rt.store.delete(NETWORKS, f"{pid}/{name}")
    return None
