"""Compute Engine instances: get, list, aggregatedList of the node VMs GKE runs for the
project's node pools (`gke_derived`), as GKE's instance templates shape them."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import link
from sandbox.gcp.compute.geography import ZONES
from sandbox.gcp.compute.gke_derived import (
    NodeVm,
    created,
    network_link,
    node_address,
    node_tag,
    node_vms,
    pod_range,
    subnet_link,
)
from sandbox.gcp.container.naming import digest
from sandbox.runtime import Runtime

HANDLERS = Handlers("compute.v1")
_SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]


def _fingerprint(*parts: object) -> str:
    return digest("fingerprint", *parts)[:11] + "="


def _scheduling(vm: NodeVm) -> dict[str, Any]:
    if vm.spot:
        return {
            "onHostMaintenance": "TERMINATE",
            "automaticRestart": False,
            "preemptible": False,
            "provisioningModel": "SPOT",
            "instanceTerminationAction": "STOP",
        }
    return {
        "onHostMaintenance": "TERMINATE" if vm.gpus else "MIGRATE",
        "automaticRestart": True,
        "preemptible": False,
        "provisioningModel": "STANDARD",
    }


def view(rt: Runtime, pid: str, vm: NodeVm) -> dict[str, Any]:
    """The Instance resource of a node VM."""
    cluster, pool = vm.cluster, vm.pool
    config = pool.get("config") or {}
    zone_path = f"projects/{pid}/zones/{vm.zone}"
    pool_network = pool.get("networkConfig") or {}
    labels = {
        "goog-gke-node": "",
        "goog-k8s-cluster-name": str(cluster["name"]),
        "goog-k8s-cluster-location": str(cluster.get("location", "")),
        "goog-k8s-node-pool-name": str(pool["name"]),
        **{str(k): str(v) for k, v in (config.get("resourceLabels") or {}).items()},
    }
    body: dict[str, Any] = {
        "kind": "compute#instance",
        "id": str(int(digest(cluster.get("id", ""), vm.name)[:15], 16)),
        "creationTimestamp": created(cluster),
        "name": vm.name,
        "tags": {"items": [node_tag(cluster)], "fingerprint": _fingerprint(node_tag(cluster))},
        "machineType": link(f"{zone_path}/machineTypes/{vm.machine_type}"),
        "status": "RUNNING",
        "zone": link(zone_path),
        "canIpForward": True,
        "networkInterfaces": [
            {
                "kind": "compute#networkInterface",
                "name": "nic0",
                "network": network_link(cluster),
                "subnetwork": subnet_link(cluster),
                "networkIP": node_address(rt, vm),
                "aliasIpRanges": [
                    {
                        "ipCidrRange": pod_range(vm),
                        "subnetworkRangeName": str(pool_network.get("podRange") or "pods"),
                    }
                ],
                "fingerprint": _fingerprint(vm.name, "nic0"),
                "stackType": "IPV4_ONLY",
            }
        ],
        "disks": [
            {
                "kind": "compute#attachedDisk",
                "type": "PERSISTENT",
                "mode": "READ_WRITE",
                "source": link(f"{zone_path}/disks/{vm.name}"),
                "deviceName": "persistent-disk-0",
                "index": 0,
                "boot": True,
                "autoDelete": True,
                "interface": "SCSI",
                "diskSizeGb": str(int(vm.disk_gb)),
                "architecture": "X86_64",
            }
        ],
        "metadata": {
            "kind": "compute#metadata",
            "fingerprint": _fingerprint(vm.name, "metadata"),
            "items": [
                {"key": "cluster-name", "value": str(cluster["name"])},
                {"key": "cluster-location", "value": str(cluster.get("location", ""))},
                *[
                    {"key": str(k), "value": str(v)}
                    for k, v in sorted((config.get("metadata") or {}).items())
                ],
            ],
        },
        "serviceAccounts": [
            {"email": str(config.get("serviceAccount") or "default"), "scopes": _SCOPES}
        ],
        "selfLink": link(f"{zone_path}/instances/{vm.name}"),
        "scheduling": _scheduling(vm),
        "cpuPlatform": "Intel Broadwell",
        "labels": labels,
        "labelFingerprint": _fingerprint(sorted(labels.items())),
        "startRestricted": False,
        "deletionProtection": False,
        "shieldedInstanceConfig": {
            "enableSecureBoot": bool(
                (config.get("shieldedInstanceConfig") or {}).get("enableSecureBoot")
            ),
            "enableVtpm": True,
            "enableIntegrityMonitoring": True,
        },
        "shieldedInstanceIntegrityPolicy": {"updateAutoLearnPolicy": True},
        "fingerprint": _fingerprint(vm.name),
        "lastStartTimestamp": created(cluster),
    }
    accelerators = config.get("accelerators") or []
    if accelerators:
        body["guestAccelerators"] = [
            {
                "acceleratorType": link(f"{zone_path}/acceleratorTypes/{a['acceleratorType']}"),
                "acceleratorCount": int(a.get("acceleratorCount") or 0),
            }
            for a in accelerators
        ]
    return body


def _instances(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    return [(vm.zone, view(call.rt, pid, vm)) for vm in node_vms(call.rt, pid)]


COLLECTION = Collection("instances", "instance", "zones", source=_instances, known=ZONES)
COLLECTION.serve_reads(HANDLERS)
