"""What GKE makes in a project's Compute Engine, derived from the stored clusters (read-only):
node VMs per pool and zone, the cluster's firewall rules, and the control plane's VPC peering
(Compute serves them through `compute_deriver`).

GKE names them after the cluster: VMs `<instance group without -grp>-<4 chars>`, firewall rules
`gke-<cluster>-<hash>-{master,vms,all,inkubelet,exkubelet}` targeting the node tag
`gke-<cluster>-<hash>-node` (hash: the first 8 digits of the cluster id), the peering named by
`privateClusterConfig.peeringName` to a network in a Google-owned project.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.clock import compute_timestamp
from sandbox.gcp.compute.common import ROOT
from sandbox.gcp.compute.stored import SUBNETWORKS
from sandbox.gcp.container.cluster_store import CLUSTERS
from sandbox.gcp.container.naming import region_of
from sandbox.gcp.names import digest
from sandbox.runtime import Runtime

JSON = dict[str, Any]
_GROUP = re.compile(r"/projects/([^/]+)/zones/([^/]+)/instanceGroupManagers/(.+)-grp$")


@dataclass(frozen=True)
class NodeVm:
    """One node VM of a GKE node pool."""

    name: str
    zone: str
    cluster: JSON
    pool: JSON
    index: int  # position among the cluster's VMs (for addresses)

    @property
    def machine_type(self) -> str:
        return str((self.pool.get("config") or {}).get("machineType") or "e2-medium")

    @property
    def cpus(self) -> float:
        found = re.search(r"-(\d+)$", self.machine_type)
        return float(found.group(1)) if found else 2.0

    @property
    def disk_gb(self) -> float:
        return float((self.pool.get("config") or {}).get("diskSizeGb") or 100)

    @property
    def gpus(self) -> int:
        accelerators = (self.pool.get("config") or {}).get("accelerators") or []
        return sum(int(a.get("acceleratorCount") or 0) for a in accelerators)

    @property
    def spot(self) -> bool:
        config = self.pool.get("config") or {}
        return bool(config.get("spot") or config.get("preemptible"))


def vm_name(prefix: str, zone: str, number: int) -> str:
    """The name of a pool's `number`-th VM in a zone (also its Kubernetes Node's name): the
    instance group's prefix and four letters derived from it."""
    seed = hashlib.sha256(f"{prefix}/{zone}/{number}".encode()).hexdigest()
    return f"{prefix}-{''.join(c for c in seed if c.isalpha())[:4].ljust(4, 'x')}"


def clusters_of(rt: Runtime, project_id: str) -> list[JSON]:
    """The stored GKE clusters of a project."""
    return list(rt.store.values(CLUSTERS, f"{project_id}/"))


def cluster_hash(cluster: JSON) -> str:
    """The 8 hex digits GKE puts in the names of a cluster's Compute resources."""
    return str(cluster.get("id", ""))[:8]


def node_tag(cluster: JSON) -> str:
    """The network tag of the cluster's node VMs (the target of its firewall rules)."""
    return f"gke-{cluster['name'][:20]}-{cluster_hash(cluster)}-node"


def created(cluster: JSON) -> str:
    """The cluster's createTime in Compute's timestamp form."""
    try:
        when = datetime.fromisoformat(str(cluster.get("createTime", "")).replace("Z", "+00:00"))
    except ValueError:
        return compute_timestamp(0.0)
    return compute_timestamp(when.timestamp())


def node_vms(rt: Runtime, project_id: str) -> list[NodeVm]:
    """Every node VM of the project's clusters: per pool and zone, the pool's node count."""
    found: list[NodeVm] = []
    for cluster in clusters_of(rt, project_id):
        index = 0
        for pool in cluster.get("nodePools") or []:
            if pool.get("status") in ("ERROR", "PROVISIONING"):
                continue
            per_zone = int(pool.get("initialNodeCount") or 0)
            for url in pool.get("instanceGroupUrls") or []:
                group = _GROUP.search(url)
                if group is None:
                    continue
                zone, prefix = group.group(2), group.group(3)
                for number in range(per_zone):
                    found.append(NodeVm(vm_name(prefix, zone, number), zone, cluster, pool, index))
                    index += 1
    return found


def _subnet(rt: Runtime, cluster: JSON) -> JSON:
    parts = str((cluster.get("networkConfig") or {}).get("subnetwork", "")).split("/")
    if len(parts) != 6:
        return {}
    return rt.store.get(SUBNETWORKS, f"{parts[1]}/{parts[3]}/{parts[5]}") or {}


def network_link(cluster: JSON) -> str:
    """The full link of the cluster's VPC network."""
    return ROOT + str((cluster.get("networkConfig") or {}).get("network", ""))


def subnet_link(cluster: JSON) -> str:
    """The full link of the cluster's subnetwork."""
    return ROOT + str((cluster.get("networkConfig") or {}).get("subnetwork", ""))


def node_address(rt: Runtime, vm: NodeVm) -> str:
    """The VM's internal address in the cluster subnet's primary range."""
    cidr = _subnet(rt, vm.cluster).get("ipCidrRange") or "10.128.0.0/20"
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + 2 + vm.index)


def pod_range(vm: NodeVm) -> str:
    """The VM's slice of the pod range (its alias IP range)."""
    pods = ipaddress.ip_network(
        str(
            (vm.pool.get("networkConfig") or {}).get("podIpv4CidrBlock")
            or vm.cluster.get("clusterIpv4Cidr")
            or "10.4.0.0/14"
        )
    )
    size = int(vm.pool.get("podIpv4CidrSize") or 24)
    base = int(pods.network_address) + vm.index * 2 ** (32 - size)
    return f"{ipaddress.ip_address(base)}/{size}"


def _rule(cluster: JSON, suffix: str, **fields: Any) -> JSON:
    name = f"gke-{cluster['name'][:20]}-{cluster_hash(cluster)}-{suffix}"
    return {
        "name": name,
        "network": network_link(cluster),
        "priority": 1000,
        "direction": "INGRESS",
        "targetTags": [node_tag(cluster)],
        "logConfig": {"enable": False},
        "disabled": False,
        "creationTimestamp": created(cluster),
        "id": str(int(digest(cluster.get("id", ""), suffix)[:15], 16)),
        **fields,
    }


def firewall_rules(rt: Runtime, project_id: str) -> list[JSON]:
    """The ingress rules GKE creates for each cluster (without kind and selfLink)."""
    rules: list[JSON] = []
    for cluster in clusters_of(rt, project_id):
        private = cluster.get("privateClusterConfig") or {}
        pods = str(cluster.get("clusterIpv4Cidr") or "")
        nodes = str(_subnet(rt, cluster).get("ipCidrRange") or "10.128.0.0/9")
        if private.get("masterIpv4CidrBlock"):
            rules.append(
                _rule(
                    cluster,
                    "master",
                    sourceRanges=[private["masterIpv4CidrBlock"]],
                    allowed=[{"IPProtocol": "tcp", "ports": ["10250", "443"]}],
                )
            )
        rules.append(
            _rule(
                cluster,
                "vms",
                sourceRanges=[nodes],
                allowed=[
                    {"IPProtocol": "icmp"},
                    {"IPProtocol": "tcp", "ports": ["1-65535"]},
                    {"IPProtocol": "udp", "ports": ["1-65535"]},
                ],
            )
        )
        if pods:
            rules.append(
                _rule(
                    cluster,
                    "all",
                    sourceRanges=[pods],
                    allowed=[
                        {"IPProtocol": protocol}
                        for protocol in ("tcp", "udp", "icmp", "esp", "ah", "sctp")
                    ],
                )
            )
            rules.append(
                _rule(
                    cluster,
                    "inkubelet",
                    priority=999,
                    sourceRanges=[pods],
                    sourceTags=[node_tag(cluster)],
                    allowed=[{"IPProtocol": "tcp", "ports": ["10255"]}],
                )
            )
        rules.append(
            _rule(
                cluster,
                "exkubelet",
                sourceRanges=["0.0.0.0/0"],
                denied=[{"IPProtocol": "tcp", "ports": ["10255"]}],
            )
        )
    return rules


def peerings(rt: Runtime, project_id: str, network: str) -> list[JSON]:
    """The control-plane peerings of the private clusters on a network (full link)."""
    found: list[JSON] = []
    for cluster in clusters_of(rt, project_id):
        name = (cluster.get("privateClusterConfig") or {}).get("peeringName")
        if not name or network_link(cluster) != network:
            continue
        region = region_of(str(cluster.get("location", "")))
        peer_network = name.removesuffix("-peer") + "-net"
        tenant = f"gke-prod-{region}-{digest(cluster.get('id', ''), 'tenant')[:4]}"
        found.append(
            {
                "name": name,
                "network": f"{ROOT}projects/{tenant}/global/networks/{peer_network}",
                "state": "ACTIVE",
                "stateDetails": f"[{created(cluster)}]: Connected.",
                "autoCreateRoutes": True,
                "exportCustomRoutes": False,
                "importCustomRoutes": False,
                "exchangeSubnetRoutes": True,
                "exportSubnetRoutesWithPublicIp": True,
                "importSubnetRoutesWithPublicIp": False,
                "stackType": "IPV4_ONLY",
                "peerMtu": 1460,
                "updateStrategy": "INDEPENDENT",
            }
        )
    return found


def vms_in(rt: Runtime, project_id: str, zone: str | None = None) -> Iterator[NodeVm]:
    """The project's node VMs, in one zone when given."""
    for vm in node_vms(rt, project_id):
        if zone is None or vm.zone == zone:
            yield vm
