"""Compute Engine instances: get, list, aggregatedList of the VMs other APIs run in the project
(GKE's node VMs), as they registered them (`derived`)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute import derived
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.geography import ZONES

HANDLERS = Handlers("compute.v1")


def _instances(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(vm.zone, vm.instance) for vm in derived.vms(call.rt, pid)]


COLLECTION = Collection("instances", "instance", "zones", source=_instances, known=ZONES)
COLLECTION.serve_reads(HANDLERS)
