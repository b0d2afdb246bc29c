"""Node objects of a GKE cluster, one per node of each running pool in each of its zones, named
after the pool's instance group as GKE names them, with GKE's labels, the pool's taints, the
machine's capacity and GKE's allocatable (its documented CPU and memory reservations).

A pool has its per-zone size (`initialNodeCount`, what setSize changes) plus the nodes the
cluster autoscaler added for pods (`scale_up`, kept per cluster in `controllers.nodes`), at most
its autoscaling maximum. Nodes are written only when the cluster's pools or the additions
change, judged on a fingerprint, so a settled cluster costs one read per pass.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sandbox.controllers import settings as timing
from sandbox.controllers.context import Context
from sandbox.controllers.pool_capacity import Pool, pool_from
from sandbox.gcp.container.cluster_store import find_cluster
from sandbox.k8s.errors import StatusError
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.k8s.ip_ranges import networks_of

Obj = dict[str, Any]
NODES = "controllers.nodes"  # key: cluster key
POOL_LABEL = "cloud.google.com/gke-nodepool"
_UP = ("RUNNING", "RECONCILING")
_GIB = 1024**3
_MEMORY_PER_CPU = {"standard": 4.0, "highmem": 8.0, "highcpu": 1.0, "highgpu": 7.0, "megagpu": 7.0}
_FAMILY_MEMORY = {"n1": 3.75}


def _machine(machine: str) -> tuple[float, float]:
    """(vCPUs, memory bytes) of a machine type."""
    found = re.match(r"([a-z0-9]+)-([a-z]+)-(\d+)", machine)
    if not found:
        return 2.0, 4.0 * _GIB
    family, shape, cpus = found.group(1), found.group(2), float(found.group(3))
    per_cpu = _MEMORY_PER_CPU.get(shape, 4.0)
    if shape == "standard":
        per_cpu = _FAMILY_MEMORY.get(family, per_cpu)
    return cpus, cpus * per_cpu * _GIB


def _reserved_cpu(cpus: float) -> float:
    bands = ((1.0, 0.06), (1.0, 0.01), (2.0, 0.005), (float("inf"), 0.0025))
    left, reserved = cpus, 0.0
    for size, share in bands:
        part = min(left, size)
        reserved += part * share
        left -= part
    return reserved


def _reserved_memory(memory: float) -> float:
    if memory < _GIB:
        return 255 * 1024**2
    bands = ((4.0, 0.25), (4.0, 0.2), (8.0, 0.1), (112.0, 0.06), (float("inf"), 0.02))
    left, reserved = memory, 0.0
    for size, share in bands:
        part = min(left, size * _GIB)
        reserved += part * share
        left -= part
    return reserved + 100 * 1024**2  # kubelet's eviction threshold


def _resources(pool: Pool, machine: str) -> tuple[Obj, Obj]:
    cpus, memory = _machine(machine)
    capacity = {
        "cpu": str(int(cpus)),
        "memory": f"{int(memory // 1024)}Ki",
        "pods": "110",
        "ephemeral-storage": "98831908Ki",
    }
    allocatable = {
        "cpu": f"{int(cpus * 1000 - _reserved_cpu(cpus) * 1000)}m",
        "memory": f"{int((memory - _reserved_memory(memory)) // 1024)}Ki",
        "pods": "110",
        "ephemeral-storage": "47060071478",
    }
    if pool.gpus:
        capacity["nvidia.com/gpu"] = allocatable["nvidia.com/gpu"] = str(pool.gpus)
    return capacity, allocatable


def _prefixes(raw: Obj, cluster_name: str) -> dict[str, str]:
    """Per zone, the node name prefix (the pool's instance group without `-grp`)."""
    found: dict[str, str] = {}
    for url in raw.get("instanceGroupUrls") or []:
        parts = str(url).split("/")
        if "zones" in parts:
            zone = parts[parts.index("zones") + 1]
            found[zone] = parts[-1].removesuffix("-grp")
    for zone in raw.get("locations") or []:
        seed = f"{cluster_name}/{raw.get('name')}/{zone}".encode()
        found.setdefault(
            zone,
            f"gke-{cluster_name[:14]}-{str(raw.get('name'))[:14]}-"
            f"{hashlib.sha256(seed).hexdigest()[:8]}",
        )
    return found


def per_zone_max(raw: Obj) -> int | None:
    autoscaling = raw.get("autoscaling") or {}
    if not autoscaling.get("enabled"):
        return None
    zones = max(len(raw.get("locations") or []), 1)
    if autoscaling.get("totalMaxNodeCount") is not None:
        return -(-int(autoscaling["totalMaxNodeCount"]) // zones)
    return int(autoscaling.get("maxNodeCount") or 0)


def desired_nodes(cluster: Obj, added: dict[str, dict[str, int]]) -> list[tuple[str, str, Obj]]:
    """(node name, zone, raw pool) of every node the cluster's running pools have."""
    found = []
    for raw in cluster.get("nodePools") or []:
        if raw.get("status") not in _UP:
            continue
        name = str(raw.get("name"))
        prefixes = _prefixes(raw, str(cluster.get("name")))
        ceiling = per_zone_max(raw)
        for zone in raw.get("locations") or []:
            count = int(raw.get("initialNodeCount") or 0) + added.get(name, {}).get(zone, 0)
            if ceiling is not None:
                count = min(count, max(ceiling, int(raw.get("initialNodeCount") or 0)))
            for index in range(count):
                digest = hashlib.sha256(f"{prefixes[zone]}/{zone}/{index}".encode()).hexdigest()
                suffix = "".join(c for c in digest if c.isalpha())[:4].ljust(4, "x")
                found.append((f"{prefixes[zone]}-{suffix}", zone, raw))
    return found


def _node(cluster: Obj, zone: str, raw: Obj, *, identity: bool, index: int, networks: Any) -> Obj:
    pool = pool_from(raw, identity)
    machine = str((raw.get("config") or {}).get("machineType") or "e2-medium")
    region = zone.rsplit("-", 1)[0]
    return {
        "labels": {
            **pool.labels,
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/instance-type": machine,
            "cloud.google.com/gke-boot-disk": "pd-balanced",
            "cloud.google.com/gke-container-runtime": "containerd",
            "cloud.google.com/gke-os-distribution": "cos",
            "cloud.google.com/private-node": "true",
            "topology.kubernetes.io/region": region,
            "topology.kubernetes.io/zone": zone,
            "failure-domain.beta.kubernetes.io/region": region,
            "failure-domain.beta.kubernetes.io/zone": zone,
        },
        "taints": [{"key": t.key, "value": t.value, "effect": t.effect} for t in pool.taints],
        "resources": _resources(pool, machine),
        "podCIDR": networks.node_pod_cidr(index),
        "ip": networks.node_ip(index),
        "version": str(raw.get("version") or cluster.get("currentNodeVersion") or ""),
    }


def node_object(name: str, project: str, zone: str, facts: Obj) -> Obj:
    """The Node as the kubelet registers it (status written separately)."""
    labels = {**facts["labels"], "kubernetes.io/hostname": name}
    spec: Obj = {
        "podCIDR": facts["podCIDR"],
        "podCIDRs": [facts["podCIDR"]],
        "providerID": f"gce://{project}/{zone}/{name}",
    }
    if facts["taints"]:
        spec["taints"] = facts["taints"]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": spec,
    }


def node_status(name: str, facts: Obj, stamp: str) -> Obj:
    """A Ready node's status."""
    capacity, allocatable = facts["resources"]
    healthy = [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
    version = facts["version"].split("-")[0]
    return {
        "capacity": capacity,
        "allocatable": allocatable,
        "conditions": [
            {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
            }
            for kind, status, reason, message in healthy
        ],
        "addresses": [
            {"type": "InternalIP", "address": facts["ip"]},
            {"type": "Hostname", "address": name},
        ],
        "nodeInfo": {
            "architecture": "amd64",
            "operatingSystem": "linux",
            "osImage": "Container-Optimized OS from Google",
            "kernelVersion": "6.6.72+",
            "containerRuntimeVersion": "containerd://1.7.24",
            "kubeletVersion": f"v{version}" if version else "",
            "kubeProxyVersion": "",
            "machineID": hashlib.sha256(name.encode()).hexdigest()[:32],
            "systemUUID": hashlib.sha256(name.encode()).hexdigest()[:32],
            "bootID": hashlib.sha256((name + "boot").encode()).hexdigest()[:32],
        },
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
    }


def gke_cluster(ctx: Context, cluster_key: str) -> Obj | None:
    """The stored GKE cluster behind a cluster key (None: not a GKE cluster)."""
    parts = cluster_key.split("/")
    if len(parts) != 6:
        return None
    return find_cluster(ctx.rt, parts[1], parts[3], parts[5])


def scale_up(ctx: Context, cluster_key: str, pool: str, zone: str) -> None:
    """The cluster autoscaler asks for a node in a pool's zone; it registers after the
    modelled scale-up time."""
    record = ctx.rt.store.get(NODES, cluster_key) or {}
    due = ctx.now + timing.delay(ctx.rt, timing.SCALE_UP)
    pending = [*(record.get("pending") or []), {"pool": pool, "zone": zone, "dueAt": due}]
    ctx.rt.store.put(NODES, cluster_key, {**record, "pending": pending})


def nodes_per_zone(ctx: Context, cluster_key: str, cluster: Obj) -> dict[str, dict[str, int]]:
    """Nodes each pool has or has been asked for, per zone."""
    record = ctx.rt.store.get(NODES, cluster_key) or {}
    counts: dict[str, dict[str, int]] = {}
    for raw in cluster.get("nodePools") or []:
        for zone in raw.get("locations") or []:
            counts.setdefault(str(raw.get("name")), {})[zone] = int(
                raw.get("initialNodeCount") or 0
            )
    for source in [record.get("added") or {}]:
        for pool, zones in source.items():
            for zone, count in zones.items():
                counts.setdefault(pool, {})[zone] = counts.get(pool, {}).get(zone, 0) + count
    for asked in record.get("pending") or []:
        zones = counts.setdefault(asked["pool"], {})
        zones[asked["zone"]] = zones.get(asked["zone"], 0) + 1
    return counts


def _register_due(ctx: Context, record: Obj) -> Obj:
    """Move scale-ups whose time has come into the added nodes."""
    pending = record.get("pending") or []
    due = [p for p in pending if ctx.now >= float(p["dueAt"])]
    if not due:
        return record
    added = {pool: dict(zones) for pool, zones in (record.get("added") or {}).items()}
    for asked in due:
        zones = added.setdefault(asked["pool"], {})
        zones[asked["zone"]] = zones.get(asked["zone"], 0) + 1
    return {**record, "added": added, "pending": [p for p in pending if p not in due]}


def sync_nodes(ctx: Context, cluster_key: str) -> None:
    """Make the cluster's Node objects match its pools (when they changed)."""
    cluster = gke_cluster(ctx, cluster_key)
    if cluster is None:
        return
    record = _register_due(ctx, ctx.rt.store.get(NODES, cluster_key) or {})
    added = record.get("added") or {}
    nap = list((record.get("nap") or {}).values())
    cluster = {**cluster, "nodePools": [*(cluster.get("nodePools") or []), *nap]}
    wanted = desired_nodes(cluster, added)
    fingerprint = hashlib.sha256(
        json.dumps([cluster.get("nodePools"), added], sort_keys=True, default=str).encode()
    ).hexdigest()
    if record.get("fingerprint") == fingerprint:
        return
    api = ClusterApi(ctx.rt, cluster_key, manager="kubelet")
    networks = networks_of(ctx.rt.store, cluster_key)
    identity = bool((cluster.get("workloadIdentityConfig") or {}).get("workloadPool"))
    indexes: dict[str, int] = dict(record.get("indexes") or {})
    project = cluster_key.split("/")[1]
    names = {name for name, _, _ in wanted}
    try:
        for existing in api.list("v1", "Node"):
            if existing["metadata"]["name"] not in names:
                api.delete("v1", "Node", existing["metadata"]["name"])
                indexes.pop(existing["metadata"]["name"], None)
        for name, zone, raw in wanted:
            index = indexes.setdefault(name, max(indexes.values(), default=-1) + 1)
            facts = _node(cluster, zone, raw, identity=identity, index=index, networks=networks)
            body = node_object(name, project, zone, facts)
            if api.get("v1", "Node", name) is None:
                api.create(body)
                api.patch_status("v1", "Node", name, node_status(name, facts, ctx.stamp))
    except (StatusError, KeyError):
        return  # the cluster is going; try again at the next pass
    ctx.rt.store.put(NODES, cluster_key, {**record, "fingerprint": fingerprint, "indexes": indexes})


_NAP_MACHINES = (
    (2, "e2-standard-2"),
    (4, "e2-standard-4"),
    (8, "e2-standard-8"),
    (16, "e2-standard-16"),
    (32, "e2-standard-32"),
    (96, "n2-standard-96"),
)
_GPU_MACHINES = {
    "nvidia-l4": (
        (1, "g2-standard-8"),
        (2, "g2-standard-24"),
        (4, "g2-standard-48"),
        (8, "g2-standard-96"),
    )
}


def _nap_machine(requests: dict[str, float], accelerator: str) -> tuple[str, int]:
    """The machine type node auto-provisioning picks for a pod, and its GPUs."""
    gpus = int(requests.get("nvidia.com/gpu", 0.0) or (1 if accelerator else 0))
    if accelerator:
        for count, machine in _GPU_MACHINES.get(accelerator, ((gpus, "n1-standard-16"),)):
            if count >= gpus:
                return machine, count
        return "n1-standard-16", gpus
    cpu, memory = requests.get("cpu", 0.0), requests.get("memory", 0.0)
    for _, machine in _NAP_MACHINES:
        cpus, total = _machine(machine)
        if cpus - _reserved_cpu(cpus) >= cpu and total - _reserved_memory(total) >= memory:
            return machine, 0
    return _NAP_MACHINES[-1][1], 0


def provision(
    ctx: Context, cluster_key: str, zone: str, selector: dict[str, str], requests: dict[str, float]
) -> str:
    """Node auto-provisioning: a node in an auto-provisioned pool fit for the pod (made at the
    next node sync); returns the pool's name."""
    accelerator = selector.get("cloud.google.com/gke-accelerator", "")
    machine, gpus = _nap_machine(requests, accelerator)
    spot = selector.get("cloud.google.com/gke-spot") == "true"
    seed = json.dumps([machine, accelerator, spot], sort_keys=True).encode()
    name = f"nap-{machine}-{hashlib.sha256(seed).hexdigest()[:8]}"
    config: Obj = {
        "machineType": machine,
        "labels": {"cloud.google.com/gke-provisioning": "spot" if spot else "standard"},
    }
    if spot:
        config["spot"] = True
    if gpus:
        config["accelerators"] = [{"acceleratorType": accelerator, "acceleratorCount": str(gpus)}]
    record = ctx.rt.store.get(NODES, cluster_key) or {}
    pools = dict(record.get("nap") or {})
    pools.setdefault(
        name, {"name": name, "config": config, "locations": [zone], "status": "RUNNING"}
    )
    ctx.rt.store.put(NODES, cluster_key, {**record, "nap": pools})
    scale_up(ctx, cluster_key, name, zone)
    return name
