"""Compute Engine subnetworks: insert, get, list, aggregatedList, patch, setPrivateIpGoogleAccess,
delete. Ranges (primary and secondary) may not overlap within a network; PATCH needs the current
fingerprint, as on Google."""

from __future__ import annotations

import ipaddress
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.effects import effect, make_effect
from sandbox.errors import ApiError, invalid_argument
from sandbox.gcp.compute.collection import Collection, Found
from sandbox.gcp.compute.common import (
    check_name,
    fingerprint,
    in_use,
    link,
    missing,
    path_of,
)
from sandbox.gcp.compute.networks import network_path, referenced_network
from sandbox.gcp.compute.stored import ROUTERS, SUBNETWORKS
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


COLLECTION = Collection("subnetworks", "subnetwork", "regions", store=SUBNETWORKS)
COLLECTION.serve_reads(HANDLERS)


@HANDLERS("compute.subnetworks.insert")
def insert(call: Call) -> dict[str, Any]:
    project, name = COLLECTION.inserting(call)
    pid, region, body = project["projectId"], call.params["region"], call.body
    network_ref = referenced_network(
        call, pid, call.require(body.get("network"), "resource.network")
    )
    if network_ref != network_path(pid, network_ref.rsplit("/", 1)[-1]):
        raise missing(network_ref)
    cidr = _cidr(
        call.require(body.get("ipCidrRange"), "resource.ipCidrRange"), "resource.ip_cidr_range"
    )

    def document(ident: str, path: str) -> dict[str, Any]:
        doc = {
            "privateIpGoogleAccess": False,
            "purpose": "PRIVATE",
            "stackType": "IPV4_ONLY",
            "privateIpv6GoogleAccess": "DISABLE_GOOGLE_ACCESS",
            **body,
            **COLLECTION.created(call.rt, ident),
            "network": link(network_ref),
            **COLLECTION.located(pid, region),
            "selfLink": link(path),
            "gatewayAddress": str(next(cidr.hosts())),
            "fingerprint": fingerprint(),
            "state": "READY",
        }
        _check_overlaps(call, pid, doc)
        return doc

    return COLLECTION.insert(call, project, name, document)


@HANDLERS("compute.subnetworks.patch")
def patch(call: Call) -> dict[str, Any]:
    found = COLLECTION.find(call)
    doc, body = found.doc, call.body
    if not body.get("fingerprint"):
        raise invalid_argument("Required field 'fingerprint' not specified", "resource.fingerprint")
    if body["fingerprint"] != doc["fingerprint"]:
        raise ApiError(
            412,
            "Supplied fingerprint does not match current metadata fingerprint.",
            "FAILED_PRECONDITION",
            legacy_reason="conditionNotMet",
        )
    fields = COLLECTION.changed_fields(doc, body, _MUTABLE)
    if "ipCidrRange" in fields:
        old = _cidr(doc["ipCidrRange"], "resource.ip_cidr_range")
        new = _cidr(fields["ipCidrRange"], "resource.ip_cidr_range")
        if not (new.version == old.version and old.subnet_of(new)):  # type: ignore[arg-type]
            raise invalid_argument(
                f"Invalid IPCidrRange: {new}: a subnetwork range can only be expanded.",
                "resource.ip_cidr_range",
            )
    _check_overlaps(call, found.project["projectId"], {**doc, **fields})
    return COLLECTION.merge(call, found, fields)


@HANDLERS("compute.subnetworks.setPrivateIpGoogleAccess")
def set_private_ip_google_access(call: Call) -> dict[str, Any]:
    found = COLLECTION.find(call)
    value = bool(call.body.get("privateIpGoogleAccess", False))
    return COLLECTION.merge(
        call, found, {"privateIpGoogleAccess": value}, "setPrivateIpGoogleAccess"
    )


@HANDLERS("compute.subnetworks.delete")
def delete(call: Call) -> dict[str, Any]:
    return COLLECTION.delete(call, _gone_effect)


def _gone_effect(found: Found) -> dict[str, Any]:
    return make_effect("compute.subnetworkGone", project=found.project["projectId"], key=found.key)


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
