"""Compute Engine VPC networks: insert, get, list, patch, delete."""

from __future__ import annotations

from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.effects import effect, make_effect
from sandbox.errors import invalid_argument
from sandbox.gcp.compute import derived
from sandbox.gcp.compute.collection import Collection, Found
from sandbox.gcp.compute.common import (
    fingerprint,
    in_use,
    link,
    missing,
    new_id,
    path_of,
    public,
    relative,
    timestamp,
    visible,
)
from sandbox.gcp.compute.geography import AUTO_RANGES
from sandbox.gcp.compute.stored import FIREWALLS, NETWORKS, ROUTERS, SUBNETWORKS
from sandbox.gcp.names import digest
from sandbox.runtime import Runtime

HANDLERS = Handlers("compute.v1")
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


def referenced_network(call: Call, project_id: str, value: str) -> str:
    """The relative path of the network a body names (a full or partial link); 404 when the
    project has no such network."""
    ref = relative(value, project_id, "resource.network")
    if not find_network(call, project_id, ref.rsplit("/", 1)[-1]):
        raise missing(ref)
    return ref


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
    peered = derived.peerings(call.rt, project_id, own)
    if peered:
        body["peerings"] = peered
    return body


COLLECTION = Collection("networks", "network", "global", store=NETWORKS, view=_view)
COLLECTION.serve_reads(HANDLERS)


@HANDLERS("compute.networks.insert")
def insert(call: Call) -> dict[str, Any]:
    project, name = COLLECTION.inserting(call)
    pid, body = project["projectId"], call.body
    if "autoCreateSubnetworks" not in body:
        raise invalid_argument(
            "Invalid value for field 'resource.autoCreateSubnetworks': ''. Legacy networks are "
            "not supported; set autoCreateSubnetworks.",
            "resource.auto_create_subnetworks",
        )

    def document(ident: str, path: str) -> dict[str, Any]:
        return {
            "routingConfig": {"routingMode": "REGIONAL"},
            "mtu": 1460,
            "networkFirewallPolicyEnforcementOrder": "AFTER_CLASSIC_FIREWALL",
            **body,
            **COLLECTION.created(call.rt, ident),
            "selfLink": link(path),
            "selfLinkWithId": link(f"projects/{pid}/global/networks/{ident}"),
        }

    def ready(key: str) -> dict[str, Any]:
        return make_effect("compute.networkReady", project=pid, name=name)

    return COLLECTION.insert(call, project, name, document, ready=ready)


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


@HANDLERS("compute.networks.patch")
def patch(call: Call) -> dict[str, Any]:
    found = COLLECTION.find(call)
    doc = found.doc
    fields = COLLECTION.changed_fields(doc, call.body, _MUTABLE)
    if fields.get("enableUlaInternalIpv6") and not doc.get("internalIpv6Range"):
        # Google assigns a /48 of its ULA block fd20::/20 when none is asked for.
        block = int(digest(doc["id"], "ula")[:7], 16) & 0xFFFFFFF
        fields.setdefault("internalIpv6Range", f"fd20:{block >> 16:03x}:{block & 0xFFFF:x}::/48")
    return COLLECTION.merge(call, found, fields)


def _gone_effect(found: Found) -> dict[str, Any]:
    pid = found.project["projectId"]
    return make_effect("compute.networkGone", project=pid, name=found.doc["name"])


@HANDLERS("compute.networks.delete")
def delete(call: Call) -> dict[str, Any]:
    return COLLECTION.delete(call, _gone_effect)


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
