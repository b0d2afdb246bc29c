"""Compute Engine Cloud Routers with Cloud NAT (`nats[]`): insert, get, list, aggregatedList,
patch, update, delete."""

from __future__ import annotations

from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument
from sandbox.gcp.compute.common import (
    activate_effect,
    aggregated_response,
    check_name,
    check_region,
    exists,
    forget_effect,
    guard,
    link,
    list_response,
    merge_effect,
    missing,
    new_id,
    path_of,
    public,
    relative,
    start_operation,
    timestamp,
    unchanged,
    visible,
)
from sandbox.gcp.compute.networks import ROUTERS, SUBNETWORKS, find_network
from sandbox.operations import make_effect

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


def router_path(project_id: str, region: str, name: str) -> str:
    """`projects/P/regions/R/routers/N`."""
    return f"projects/{project_id}/regions/{region}/routers/{name}"


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


def _find(call: Call) -> tuple[dict[str, Any], str, str, dict[str, Any]]:
    project = guard(call)
    pid = project["projectId"]
    key = f"{pid}/{call.params['region']}/{call.params['router']}"
    doc = call.rt.store.get(ROUTERS, key)
    if doc is None or not visible(doc):
        raise missing(router_path(pid, call.params["region"], call.params["router"]))
    return project, pid, key, doc


@HANDLERS("compute.routers.insert")
def insert(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    region = check_region(call.params["region"])
    body = call.body
    name = check_name(body.get("name"))
    network_ref = relative(
        call.require(body.get("network"), "resource.network"), pid, "resource.network"
    )
    if not find_network(call, pid, network_ref.rsplit("/", 1)[-1]):
        raise missing(network_ref)
    nats = _nats(call, pid, region, body.get("nats", []))
    path = router_path(pid, region, name)
    key = f"{pid}/{region}/{name}"
    rt = call.rt
    with rt.store.transaction():
        if rt.store.get(ROUTERS, key) is not None:
            raise exists(path)
        ident = new_id(rt)
        doc = {
            "encryptedInterconnectRouter": False,
            **body,
            "kind": "compute#router",
            "id": ident,
            "creationTimestamp": timestamp(rt),
            "network": link(network_ref),
            "region": link(f"projects/{pid}/regions/{region}"),
            "selfLink": link(path),
            "_pending": True,
        }
        if nats:
            doc["nats"] = nats
        rt.store.put(ROUTERS, key, doc)
        return start_operation(
            call,
            project,
            scope=f"regions/{region}",
            operation_type="insert",
            target=path,
            target_id=ident,
            effect=activate_effect(ROUTERS, key),
            failure_effect=forget_effect(ROUTERS, key),
        )


@HANDLERS("compute.routers.get")
def get(call: Call) -> dict[str, Any]:
    return public(_find(call)[3])


@HANDLERS("compute.routers.list")
def list_(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    region = call.params["region"]
    items = [public(d) for d in call.rt.store.values(ROUTERS, f"{pid}/{region}/") if visible(d)]
    path = f"projects/{pid}/regions/{region}/routers"
    return list_response(call, "compute#routerList", path, items)


@HANDLERS("compute.routers.aggregatedList")
def aggregated_list(call: Call) -> dict[str, Any]:
    project = guard(call)
    by_region: dict[str, list[dict[str, Any]]] = {}
    for key, doc in call.rt.store.items(ROUTERS, f"{project['projectId']}/"):
        if visible(doc):
            by_region.setdefault(f"regions/{key.split('/')[1]}", []).append(public(doc))
    return aggregated_response(call, "compute#routerAggregatedList", "routers", project, by_region)


def _change(call: Call, replace: bool) -> dict[str, Any]:
    project, pid, key, doc = _find(call)
    body = dict(call.body)
    # Clients that GET then PATCH send the network back: unchanged is fine.
    if (
        "network" in body
        and link(relative(body["network"], pid, "resource.network")) == doc["network"]
    ):
        del body["network"]
    unchanged(public(doc), body, _MUTABLE, "router")
    if replace:  # PUT: mutable fields absent from the body are cleared
        fields = {field: body.get(field) for field in _MUTABLE}
    else:
        fields = {k: v for k, v in body.items() if k in _MUTABLE}
    nats = fields.get("nats")
    if nats is not None:
        fields["nats"] = _nats(call, pid, call.params["region"], nats)
    return start_operation(
        call,
        project,
        scope=f"regions/{call.params['region']}",
        operation_type="update" if replace else "patch",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=merge_effect(ROUTERS, key, fields),
    )


@HANDLERS("compute.routers.patch")
def patch(call: Call) -> dict[str, Any]:
    return _change(call, replace=False)


@HANDLERS("compute.routers.update")
def update(call: Call) -> dict[str, Any]:
    return _change(call, replace=True)


@HANDLERS("compute.routers.delete")
def delete(call: Call) -> dict[str, Any]:
    project, _, key, doc = _find(call)
    return start_operation(
        call,
        project,
        scope=f"regions/{call.params['region']}",
        operation_type="delete",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=make_effect("store.delete", collection=ROUTERS, key=key),
    )
