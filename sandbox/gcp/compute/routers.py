"""Compute Engine Cloud Routers with Cloud NAT (`nats[]`): insert, get, list, aggregatedList,
patch, update, delete."""

from __future__ import annotations

from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import (
    check_name,
    link,
    missing,
    relative,
    visible,
)
from sandbox.gcp.compute.networks import referenced_network
from sandbox.gcp.compute.stored import ROUTERS, SUBNETWORKS

HANDLERS = Handlers("compute.v1")
_MUTABLE = {"nats", "bgp", "bgpPeers", "interfaces", "description", "md5AuthenticationKeys"}
_NAT_SOURCES = (
    "ALL_SUBNETWORKS_ALL_IP_RANGES",
    "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES",
    "LIST_OF_SUBNETWORKS",
)

latency.declare(
    {
        "compute.routers.insert": (12.0, 25.0),
        "compute.routers.patch": (15.0, 30.0),
        "compute.routers.update": (15.0, 30.0),
        "compute.routers.delete": (12.0, 25.0),
    }
)


def _nats(call: Call, pid: str, region: str, nats: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NAT configs checked, with links normalized and Google's defaults filled in."""
    seen: set[str] = set()
    result = []
    for index, nat in enumerate(nats):
        where = f"resource.nats[{index}]"
        name = check_name(nat.get("name"), f"{where}.name")
        if name in seen:
            raise invalid_argument(f"Duplicate NAT name '{name}'.", f"{where}.name")
        seen.add(name)
        source = nat.get("sourceSubnetworkIpRangesToNat")
        if source not in _NAT_SOURCES:
            raise invalid_argument(
                f"Invalid value for field '{where}.sourceSubnetworkIpRangesToNat': "
                f"'{source or ''}'.",
                f"{where}.sourceSubnetworkIpRangesToNat",
            )
        kind = nat.get("type") or "PUBLIC"
        if kind == "PUBLIC" and not nat.get("natIpAllocateOption"):
            raise invalid_argument(
                f"Required field '{where}.natIpAllocateOption' not specified",
                f"{where}.natIpAllocateOption",
            )
        subnets = []
        for position, item in enumerate(nat.get("subnetworks", [])):
            field = f"{where}.subnetworks[{position}].name"
            ref = relative(call.require(item.get("name"), field), pid, field)
            stored = call.rt.store.get(SUBNETWORKS, f"{pid}/{region}/{ref.rsplit('/', 1)[-1]}")
            if not ref.startswith(f"projects/{pid}/regions/{region}/subnetworks/") or not visible(
                stored
            ):
                raise missing(ref)
            subnets.append({**item, "name": link(ref)})
        if source == "LIST_OF_SUBNETWORKS" and not subnets:
            raise invalid_argument(
                f"{where}: LIST_OF_SUBNETWORKS needs at least one subnetwork.",
                f"{where}.subnetworks",
            )
        defaults: dict[str, Any] = {
            "endpointTypes": ["ENDPOINT_TYPE_VM"],
            "type": kind,
            "enableDynamicPortAllocation": False,
            "effectiveTcpTimeWaitTimeoutSec": int(nat.get("tcpTimeWaitTimeoutSec") or 120),
        }
        if kind == "PUBLIC":
            defaults["autoNetworkTier"] = "PREMIUM"
        result.append({**defaults, **nat, **({"subnetworks": subnets} if subnets else {})})
    return result


COLLECTION = Collection("routers", "router", "regions", store=ROUTERS)
COLLECTION.serve_reads(HANDLERS)


@HANDLERS("compute.routers.insert")
def insert(call: Call) -> dict[str, Any]:
    project, name = COLLECTION.inserting(call)
    pid, region, body = project["projectId"], call.params["region"], call.body
    network_ref = referenced_network(
        call, pid, call.require(body.get("network"), "resource.network")
    )
    nats = _nats(call, pid, region, body.get("nats", []))

    def document(ident: str, path: str) -> dict[str, Any]:
        return {
            "encryptedInterconnectRouter": False,
            **body,
            **COLLECTION.created(call.rt, ident),
            "network": link(network_ref),
            **COLLECTION.located(pid, region),
            "selfLink": link(path),
            **({"nats": nats} if nats else {}),
        }

    return COLLECTION.insert(call, project, name, document)


def _change(call: Call, replace: bool) -> dict[str, Any]:
    found = COLLECTION.find(call)
    doc, body = found.doc, dict(call.body)
    pid = found.project["projectId"]
    # Clients that GET then PATCH send the network back: unchanged is fine.
    if (
        "network" in body
        and link(relative(body["network"], pid, "resource.network")) == doc["network"]
    ):
        del body["network"]
    fields = COLLECTION.changed_fields(doc, body, _MUTABLE)
    if replace:  # PUT: mutable fields absent from the body are cleared
        fields = {field: body.get(field) for field in _MUTABLE}
    nats = fields.get("nats")
    if nats is not None:
        fields["nats"] = _nats(call, pid, call.params["region"], nats)
    return COLLECTION.merge(call, found, fields, "update" if replace else "patch")


@HANDLERS("compute.routers.patch")
def patch(call: Call) -> dict[str, Any]:
    return _change(call, replace=False)


@HANDLERS("compute.routers.update")
def update(call: Call) -> dict[str, Any]:
    return _change(call, replace=True)


@HANDLERS("compute.routers.delete")
def delete(call: Call) -> dict[str, Any]:
    return COLLECTION.delete(call)
