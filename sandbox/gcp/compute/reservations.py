"""Compute Engine zonal reservations: insert, get, list, aggregatedList, resize, update, delete.

A stockout (ZONE_RESOURCE_POOL_EXHAUSTED) is a fault rule on `compute.reservations.insert` with
an `operation` outcome: the operation ends in error and the reservation is not created.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument
from sandbox.gcp.compute.common import (
    aggregated_response,
    check_name,
    check_zone,
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
    start_operation,
    timestamp,
    visible,
)
from sandbox.operations import effect, make_effect
from sandbox.runtime import Runtime

HANDLERS = Handlers("compute.v1")
RESERVATIONS = "compute.reservations"  # key: "<project>/<zone>/<name>"
_UPDATABLE = {"shareSettings", "specificReservation", "reservationSharingPolicy", "description"}
_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")

latency.declare(
    {
        "compute.reservations.insert": (15.0, 60.0),
        "compute.reservations.delete": (10.0, 30.0),
        "compute.reservations.resize": (10.0, 30.0),
        "compute.reservations.update": (10.0, 30.0),
    }
)


def reservation_path(project_id: str, zone: str, name: str) -> str:
    """`projects/P/zones/Z/reservations/N`."""
    return f"projects/{project_id}/zones/{zone}/reservations/{name}"


def _check_specific(body: dict[str, Any]) -> dict[str, Any]:
    specific = body.get("specificReservation")
    if not specific:
        raise invalid_argument(
            "Required field 'resource.specificReservation' not specified",
            "resource.specificReservation",
        )
    if int(specific.get("count", "0")) <= 0:
        raise invalid_argument(
            "Invalid value for field 'resource.specificReservation.count': must be positive.",
            "resource.specificReservation.count",
        )
    properties = specific.get("instanceProperties", {})
    machine = properties.get("machineType", "")
    if not _MACHINE_TYPE.match(machine):
        raise invalid_argument(
            f"Invalid value for field 'resource.specificReservation.instanceProperties."
            f"machineType': '{machine}'.",
            "resource.specificReservation.instanceProperties.machineType",
        )
    for index, accelerator in enumerate(properties.get("guestAccelerators", [])):
        if (
            not accelerator.get("acceleratorType")
            or int(accelerator.get("acceleratorCount", 0)) <= 0
        ):
            raise invalid_argument(
                f"Invalid guest accelerator at index {index}.",
                f"resource.specificReservation.instanceProperties.guestAccelerators[{index}]",
            )
    return {**specific, "inUseCount": "0", "assuredCount": str(specific["count"])}


@HANDLERS("compute.reservations.insert")
def insert(call: Call) -> dict[str, Any]:
    project = guard(call)
    pid = project["projectId"]
    zone = check_zone(call.params["zone"])
    body = call.body
    name = check_name(body.get("name"))
    specific = _check_specific(body)
    path = reservation_path(pid, zone, name)
    key = f"{pid}/{zone}/{name}"
    rt = call.rt
    with rt.store.transaction():
        if rt.store.get(RESERVATIONS, key) is not None:
            raise exists(path)
        ident = new_id(rt)
        rt.store.put(
            RESERVATIONS,
            key,
            {
                "specificReservationRequired": False,
                "shareSettings": {"shareType": "LOCAL"},
                "reservationSharingPolicy": {"serviceShareType": "DISALLOW_ALL"},
                **body,
                "specificReservation": specific,
                "kind": "compute#reservation",
                "id": ident,
                "creationTimestamp": timestamp(rt),
                "zone": link(f"projects/{pid}/zones/{zone}"),
                "selfLink": link(path),
                "status": "CREATING",
                "_pending": True,
            },
        )
        return start_operation(
            call,
            project,
            scope=f"zones/{zone}",
            operation_type="insert",
            target=path,
            target_id=ident,
            effect=make_effect("compute.reservation.ready", key=key),
            failure_effect=forget_effect(RESERVATIONS, key),
        )


@effect("compute.reservation.ready")
def _ready(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(RESERVATIONS, args["key"])
    if doc is not None:
        doc.pop("_pending", None)
        doc["status"] = "READY"
        rt.store.put(RESERVATIONS, args["key"], doc)
    return None


def _find(call: Call) -> tuple[dict[str, Any], str, dict[str, Any]]:
    project = guard(call)
    pid = project["projectId"]
    key = f"{pid}/{call.params['zone']}/{call.params['reservation']}"
    doc = call.rt.store.get(RESERVATIONS, key)
    if doc is None or not visible(doc):
        raise missing(reservation_path(pid, call.params["zone"], call.params["reservation"]))
    return project, key, doc


@HANDLERS("compute.reservations.get")
def get(call: Call) -> dict[str, Any]:
    return public(_find(call)[2])


@HANDLERS("compute.reservations.list")
def list_(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    zone = call.params["zone"]
    items = [public(d) for d in call.rt.store.values(RESERVATIONS, f"{pid}/{zone}/") if visible(d)]
    path = f"projects/{pid}/zones/{zone}/reservations"
    return list_response(call, "compute#reservationList", path, items)


@HANDLERS("compute.reservations.aggregatedList")
def aggregated_list(call: Call) -> dict[str, Any]:
    project = guard(call)
    by_zone: dict[str, list[dict[str, Any]]] = {}
    for key, doc in call.rt.store.items(RESERVATIONS, f"{project['projectId']}/"):
        if visible(doc):
            by_zone.setdefault(f"zones/{key.split('/')[1]}", []).append(public(doc))
    kind = "compute#reservationAggregatedList"
    return aggregated_response(call, kind, "reservations", project, by_zone)


@HANDLERS("compute.reservations.resize")
def resize(call: Call) -> dict[str, Any]:
    project, key, doc = _find(call)
    count = str(call.require(call.body.get("specificSkuCount"), "specificSkuCount"))
    if int(count) < 0:
        raise invalid_argument(
            "Invalid value for field 'specificSkuCount': must not be negative.",
            "specificSkuCount",
        )
    specific = {**doc["specificReservation"], "count": count, "assuredCount": count}
    return start_operation(
        call,
        project,
        scope=f"zones/{call.params['zone']}",
        operation_type="resize",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=merge_effect(RESERVATIONS, key, {"specificReservation": specific}),
    )


@HANDLERS("compute.reservations.update")
def update(call: Call) -> dict[str, Any]:
    """Replace the top-level fields the `paths` (or `updateMask`) name."""
    project, key, doc = _find(call)
    paths = list(call.arg("paths") or []) + [
        p for p in str(call.arg("updateMask") or "").split(",") if p
    ]
    fields: dict[str, Any] = {}
    for path in paths:
        top = path.split(".", 1)[0]
        if top not in _UPDATABLE:
            raise invalid_argument(f"Invalid update path '{path}'.", "paths")
        value = call.body.get(top)
        if top == "specificReservation" and value is not None:
            value = {**doc["specificReservation"], **value}
            value["assuredCount"] = str(value.get("count", "0"))
        fields[top] = value
    return start_operation(
        call,
        project,
        scope=f"zones/{call.params['zone']}",
        operation_type="update",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=merge_effect(RESERVATIONS, key, fields),
    )


@HANDLERS("compute.reservations.delete")
def delete(call: Call) -> dict[str, Any]:
    project, key, doc = _find(call)
    return start_operation(
        call,
        project,
        scope=f"zones/{call.params['zone']}",
        operation_type="delete",
        target=path_of(doc["selfLink"]),
        target_id=doc["id"],
        effect=make_effect("store.delete", collection=RESERVATIONS, key=key),
    )
