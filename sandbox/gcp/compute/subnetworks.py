"""Compute Engine subnetworks: insert, get, list, aggregatedList, patch, setPrivateIpGoogleAccess,
delete. Ranges (primary and secondary) may not overlap within a network; PATCH needs the current
fingerprint, as on Google."""

from __future__ import annotations

import ipaddress
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import ApiError, invalid_argument
from sandbox.gcp.compute.common import (
    activate_effect,
    aggregated_response,
    check_name,
    check_region,
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
    relative,
    start_operation,
    timestamp,
    unchanged,
    visible,
)
from sandbox.gcp.compute.networks import ROUTERS, SUBNETWORKS, find_network
from sandbox.operations import effect, make_effect
from sandbox.runtime import Runtime

HANDLERS = Handlers("compute.v1")
_MUTABLE = {
    "secondaryIpRanges",
    "privateIpGoogleAccess",
    "privateIpv6GoogleAccess",
    "logConfig",
    "enableFlowLogs",
    "ipCidrRange",
    "stackType",
    "description",
    "role",
}

latency.declare(
    {
        "compute.subnetworks.insert": (15.0, 30.0),
        "compute.subnetworks.patch": (10.0, 25.0),
        "compute.subnetworks.setPrivateIpGoogleAccess": (10.0, 25.0),
        "compute.subnetworks.delete": (12.0, 25.0),
    }
)

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def subnetwork_path(project_id: str, region: str, name: str) -> str:
    """`projects/P/regions/R/subnetworks/N`."""
    return f"projects/{project_id}/regions/{region}/subnetworks/{name}"


def _cidr(value: Any, field_path: str) -> Net:
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        raise invalid_argument(f"Invalid IPCidrRange: {value}", field_path) from None


def _ranges(doc: dict[str, Any]) -> list[tuple[str, Net]]:
    found = [("", _cidr(doc["ipCidrRange"], "resource.ip_cidr_range"))]
    for index, item in enumerate(doc.get("secondaryIpRanges", [])):
        check_name(item.get("rangeName"), f"resource.secondaryIpRanges[{index}].rangeName")
        field = f"resource.secondaryIpRanges[{index}].ipCidrRange"
        found.append((item["rangeName"], _cidr(item.get("ipCidrRange"), field)))
    names = [name for name, _ in found[1:]]
    if len(set(names)) != len(names):
        raise invalid_argument(
            "Secondary range names must be unique.", "resource.secondaryIpRanges"
        )
    return found


def _check_overlaps(call: Call, pid: str, doc: dict[str, Any]) -> None:
    mine = _ranges(doc)
    for index, (_, net) in enumerate(mine):
        for _, other in mine[index + 1 :]:
            if net.overlaps(other):
                raise invalid_argument(f"Invalid IPCidrRange: {other} conflicts with {net}.")
    for key, sub in call.rt.store.items(SUBNETWORKS, f"{pid}/"):
        if sub["network"] != doc["network"] or sub["selfLink"] == doc["selfLink"]:
            continue
        region = key.split("/")[1]
        for _, theirs in _ranges(sub):
            for _, net in mine:
                if net.overlaps(theirs):
                    raise invalid_argument(
                        f"Invalid IPCidrRange: {net} conflicts with existing subnetwork "
                        f"'{sub['name']}' in region '{region}'."
                    )


def _find(call: Call) -> tuple[dict[str, Any], str, str, dict[str, Any]]:
    project = guard(call)
    pid = project["projectId"]
    key = f"{pid}/{call.params['region']}/{call.params['subnetwork']}"
    doc = call.rt.store.get(SUBNETWORKS, key)
    if doc is None or not visible(doc):
        raise missing(subnetwork_path(pid, call.params["region"], call.params["subnetwork"]))
    return project, pid, key, doc


@HANDLERS("compute.subnetworks.insert")
def insert(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    region = check_region(call.params["region"])
    body = call.body
    name = check_name(body.get("name"))
    network_ref = relative(
        call.require(body.get("network"), "resource.network"), pid, "resource.network"
    )
    network_name = network_ref.rsplit("/", 1)[-1]
    if network_ref != f"projects/{pid}/global/networks/{network_name}" or not find_network(
        call, pid, network_name
    ):
        raise missing(network_ref)
    cidr = _cidr(
        call.require(body.get("ipCidrRange"), "resource.ipCidrRange"), "resource.ip_cidr_range"
    )
    path = subnetwork_path(pid, region, name)
    key = f"{pid}/{region}/{name}"
    rt = call.rt
    with rt.store.transaction():
        if rt.store.get(SUBNETWORKS, key) is not None:
            raise exists(path)
        ident = new_id(rt)
        doc = {
            "privateIpGoogleAccess": False,
            "purpose": "PRIVATE",
            "stackType": "IPV4_ONLY",
            "privateIpv6GoogleAccess": "DISABLE_GOOGLE_ACCESS",
            **body,
            "kind": "compute#subnetwork",
            "id": ident,
            "creationTimestamp": timestamp(rt),
            "network": link(network_ref),
            "region": link(f"projects/{pid}/regions/{region}"),
            "selfLink": link(path),
            "gatewayAddress": str(next(cidr.hosts())),
            "fingerprint": fingerprint(),
            "state": "READY",
            "_pending": True,
        }
        _check_overlaps(call, pid, doc)
        rt.store.put(SUBNETWORKS, key, doc)
        return start_operation(
            call,
            project,
            scope=f"regions/{region}",
            operation_type="insert",
            target=path,
            target_id=ident,
            effect=activate_effect(SUBNETWORKS, key),
            failure_effect=forget_effect(SUBNETWORKS, key),
        )


@HANDLERS("compute.subnetworks.get")
def get(call: Call) -> dict[str, Any]:
    return public(_find(call)[3])


@HANDLERS("compute.subnetworks.list")
def list_(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    region = call.params["region"]
    items = [public(d) for d in call.rt.store.values(SUBNETWORKS, f"{pid}/{region}/") if visible(d)]
    path = f"projects/{pid}/regions/{region}/subnetworks"
    return list_response(call, "compute#subnetworkList", path, items)


@HANDLERS("compute.subnetworks.aggregatedList")
def aggregated_list(call: Call) -> dict[str, Any]:
    project = guard(call)
    by_region: dict[str, list[dict[str, Any]]] = {}
    for key, doc in call.rt.store.items(SUBNETWORKS, f"{project['projectId']}/"):
        if visible(doc):
            by_region.setdefault(f"regions/{key.split('/')[1]}", []).append(public(doc))
    kind = "compute#subnetworkAggregatedList"
    return aggregated_response(call, kind, "subnetworks", project, by_region)


@HANDLERS("compute.subnetworks.patch")
def patch(call: Call) -> dict[str, Any]:
    project, pid, key, doc = _find(call)
    body = call.body
    if not body.get("fingerprint"):
        raise invalid_argument("Required field 'fingerprint' not specified", "resource.fingerprint")
    if body["fingerprint"] != doc["fingerprint"]:
        raise ApiError(
            412,
            "Supplied fingerprint does not match current metadata fingerprint.",
            "FAILED_PRECONDITION",
            legacy_reason="conditionNotMet",
        )
    unchanged(public(doc), body, _MUTABLE, "subnetwork")
    fields = {k: v for k, v in body.items() if k in _MUTABLE}
    if "ipCidrRange" in fields:
        old = _cidr(doc["ipCidrRange"], "resource.ip_cidr_range")
        new = _cidr(fields["ipCidrRange"], "resource.ip_cidr_range")
        if not (new.version == old.version and old.subnet_of(new)):  # type: ignore[arg-type]
            raise invalid_argument(
                f"Invalid IPCidrRange: {new}: a subnetwork range can only be expanded.",
                "resource.ip_cidr_range",
            )
    _check_overlaps(call, pid, {**doc, **fields})
    return start_operation(
        call,
        project,
        scope=f"regions/{call.params['region']}",
        operation_type="patch",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=merge_effect(SUBNETWORKS, key, fields),
    )


@HANDLERS("compute.subnetworks.setPrivateIpGoogleAccess")
def set_private_ip_google_access(call: Call) -> dict[str, Any]:
    project, _, key, doc = _find(call)
    value = bool(call.body.get("privateIpGoogleAccess", False))
    return start_operation(
        call,
        project,
        scope=f"regions/{call.params['region']}",
        operation_type="setPrivateIpGoogleAccess",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=merge_effect(SUBNETWORKS, key, {"privateIpGoogleAccess": value}),
    )


@HANDLERS("compute.subnetworks.delete")
def delete(call: Call) -> dict[str, Any]:
    project, pid, key, doc = _find(call)
    return start_operation(
        call,
        project,
        scope=f"regions/{call.params['region']}",
        operation_type="delete",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=make_effect("compute.subnetworkGone", project=pid, key=key),
    )


@effect("compute.subnetworkGone")
def _gone(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    """The subnetwork goes, unless a router's NAT still uses it (the operation fails)."""
    doc = rt.store.get(SUBNETWORKS, args["key"])
    if doc is None:
        return None
    for router in rt.store.values(ROUTERS, f"{args['project']}/"):
        for nat in router.get("nats", []):
            if any(s.get("name") == doc["selfLink"] for s in nat.get("subnetworks", [])):
                raise in_use(path_of(doc["selfLink"]), path_of(router["selfLink"]))
    rt.store.delete(SUBNETWORKS, args["key"])
    return None
