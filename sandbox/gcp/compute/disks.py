"""Compute Engine disks: get, list, aggregatedList of the node VMs' boot disks (one per VM,
named after it, as GKE's instance templates make them)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import link
from sandbox.gcp.compute.geography import ZONES
from sandbox.gcp.compute.gke_derived import NodeVm, created, node_vms
from sandbox.gcp.container.naming import digest

HANDLERS = Handlers("compute.v1")
_IMAGE = "projects/gke-node-images/global/images/gke-{version}-cos"  # 1.33.5-gke.10 → 1335-gke10


def view(pid: str, vm: NodeVm) -> dict[str, Any]:
    """The Disk resource of a node VM's boot disk."""
    config = vm.pool.get("config") or {}
    zone_path = f"projects/{pid}/zones/{vm.zone}"
    version = str(vm.pool.get("version", "")).replace(".", "")
    return {
        "kind": "compute#disk",
        "id": str(int(digest(vm.cluster.get("id", ""), vm.name, "disk")[:15], 16)),
        "creationTimestamp": created(vm.cluster),
        "name": vm.name,
        "sizeGb": str(int(vm.disk_gb)),
        "zone": link(zone_path),
        "status": "READY",
        "selfLink": link(f"{zone_path}/disks/{vm.name}"),
        "sourceImage": link(_IMAGE.format(version=version)),
        "type": link(f"{zone_path}/diskTypes/{config.get('diskType') or 'pd-balanced'}"),
        "users": [link(f"{zone_path}/instances/{vm.name}")],
        "labels": {
            "goog-gke-node": "",
            "goog-k8s-cluster-name": str(vm.cluster["name"]),
            "goog-k8s-node-pool-name": str(vm.pool["name"]),
        },
        "physicalBlockSizeBytes": "4096",
        "lastAttachTimestamp": created(vm.cluster),
        "architecture": "X86_64",
    }


def _disks(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(vm.zone, view(pid, vm)) for vm in node_vms(call.rt, pid)]


COLLECTION = Collection("disks", "disk", "zones", source=_disks, known=ZONES)
COLLECTION.serve_reads(HANDLERS)
