"""Compute Engine disks: get, list, aggregatedList of the boot disks of the VMs other APIs run
in the project (one per GKE node VM, named after it), as they registered them (`derived`)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute import derived
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.geography import ZONES

HANDLERS = Handlers("compute.v1")


def _disks(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(vm.zone, vm.disk) for vm in derived.vms(call.rt, pid)]


COLLECTION = Collection("disks", "disk", "zones", source=_disks, known=ZONES)
COLLECTION.serve_reads(HANDLERS)
