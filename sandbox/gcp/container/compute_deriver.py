"""GKE's node VMs as Compute Engine serves them: each VM's Instance (as GKE's instance templates
shape it) and boot Disk (named after it), with its firewall rules and peerings, registered with
Compute as what GKE derives (`DERIVER`)."""

from __future__ import annotations

from typing import Any

from sandbox.gcp.compute.common import link
from sandbox.gcp.compute.derived import DerivedVm, Deriver
from sandbox.gcp.container.compute_derived import (
    NodeVm,
    created,
    firewall_rules,
    network_link,
    node_address,
    node_tag,
    node_vms,
    peerings,
    pod_range,
    subnet_link,
)
from sandbox.gcp.names import digest
from sandbox.runtime import Runtime

_IMAGE = "projects/gke-node-images/global/images/gke-{version}-cos"  # 1.33.5-gke.10 → 1335-gke10
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


def instance_view(rt: Runtime, pid: str, vm: NodeVm) -> dict[str, Any]:
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


def disk_view(pid: str, vm: NodeVm) -> dict[str, Any]:
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


def derived_vms(rt: Runtime, pid: str) -> list[DerivedVm]:
    """The project's node VMs with their Instance and Disk resources."""
    return [
        DerivedVm(
            zone=vm.zone,
            instance=instance_view(rt, pid, vm),
            disk=disk_view(pid, vm),
            cpus=vm.cpus,
            disk_gb=vm.disk_gb,
            gpus=vm.gpus,
            spot=vm.spot,
        )
        for vm in node_vms(rt, pid)
    ]


DERIVER = Deriver(vms=derived_vms, firewall_rules=firewall_rules, peerings=peerings)
