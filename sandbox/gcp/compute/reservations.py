"""Compute Engine zonal reservations: insert, get, list, aggregatedList, resize, update, delete.

A stockout (ZONE_RESOURCE_POOL_EXHAUSTED) is a fault rule on `compute.reservations.insert` with
an `operation` outcome: the operation ends in error and the reservation is not created.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.effects import effect, make_effect
from sandbox.errors import invalid_argument
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import link
from sandbox.gcp.compute.stored import RESERVATIONS
from sandbox.runtime import Runtime

HANDLERS = Handlers("compute.v1")
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


COLLECTION = Collection("reservations", "reservation", "zones", store=RESERVATIONS)
COLLECTION.serve_reads(HANDLERS)


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
    project, name = COLLECTION.inserting(call)
    pid, zone, body = project["projectId"], call.params["zone"], call.body
    specific = _check_specific(body)

    def document(ident: str, path: str) -> dict[str, Any]:
        return {
            "specificReservationRequired": False,
            "shareSettings": {"shareType": "LOCAL"},
            "reservationSharingPolicy": {"serviceShareType": "DISALLOW_ALL"},
            **body,
            "specificReservation": specific,
            **COLLECTION.created(call.rt, ident),
            **COLLECTION.located(pid, zone),
            "selfLink": link(path),
            "status": "CREATING",
        }

    def ready(key: str) -> dict[str, Any]:
        return make_effect("compute.reservation.ready", key=key)

    return COLLECTION.insert(call, project, name, document, ready=ready)


@effect("compute.reservation.ready")
def _ready(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(RESERVATIONS, args["key"])
    if doc is not None:
        doc.pop("_pending", None)
        doc["status"] = "READY"
        rt.store.put(RESERVATIONS, args["key"], doc)
    return None


@HANDLERS("compute.reservations.resize")
def resize(call: Call) -> dict[str, Any]:
    found = COLLECTION.find(call)
    count = str(call.require(call.body.get("specificSkuCount"), "specificSkuCount"))
    if int(count) < 0:
        raise invalid_argument(
            "Invalid value for field 'specificSkuCount': must not be negative.",
            "specificSkuCount",
        )
    specific = {**found.doc["specificReservation"], "count": count, "assuredCount": count}
    return COLLECTION.merge(call, found, {"specificReservation": specific}, "resize")


@HANDLERS("compute.reservations.update")
def update(call: Call) -> dict[str, Any]:
    """Replace the top-level fields the `paths` (or `updateMask`) name."""
    found = COLLECTION.find(call)
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
            value = {**found.doc["specificReservation"], **value}
            value["assuredCount"] = str(value.get("count", "0"))
        fields[top] = value
    return COLLECTION.merge(call, found, fields, "update")


@HANDLERS("compute.reservations.delete")
def delete(call: Call) -> dict[str, Any]:
    return COLLECTION.delete(call)
