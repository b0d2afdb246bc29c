"""Compute Engine disks: get, list, aggregatedList of the node VMs' boot disks (one per VM,
named after it, as GKE's instance templates make them)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute.common import aggregated_response, guard, link, list_response, missing
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


@HANDLERS("compute.disks.get")
def get(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    zone, name = call.params["zone"], call.params["disk"]
    for vm in node_vms(call.rt, pid):
        if vm.zone == zone and vm.name == name:
            return view(pid, vm)
    raise missing(f"projects/{pid}/zones/{zone}/disks/{name}")


@HANDLERS("compute.disks.list")
def list_(call: Call) -> dict[str, Any]:
    pid = guard(call)["projectId"]
    zone = call.params["zone"]
    if zone not in ZONES:
        raise missing(f"projects/{pid}/zones/{zone}")
    items = [view(pid, vm) for vm in node_vms(call.rt, pid) if vm.zone == zone]
    return list_response(call, "compute#diskList", f"projects/{pid}/zones/{zone}/disks", items)


@HANDLERS("compute.disks.aggregatedList")
def aggregated_list(call: Call) -> dict[str, Any]:
    project = guard(call)
    by_zone: dict[str, list[dict[str, Any]]] = {}
    for vm in node_vms(call.rt, project["projectId"]):
        by_zone.setdefault(f"zones/{vm.zone}", []).append(view(project["projectId"], vm))
    return aggregated_response(call, "compute#diskAggregatedList", "disks", project, by_zone)
