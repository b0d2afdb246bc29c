"""A cluster's IP ranges as GKE gave them (pods, services, nodes), kept with the cluster's record;
Kubernetes' own defaults for a cluster made without GKE."""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from sandbox.store import Store

CLUSTERS = "k8s.clusters"
DEFAULT_PODS = "10.4.0.0/14"
DEFAULT_SERVICES = "10.96.0.0/12"
DEFAULT_NODES = "10.0.0.0/16"
NODE_POD_PREFIX = 24  # GKE's nodeIpv4CidrSize for 110 pods per node


@dataclass(frozen=True)
class Networks:
    """Where a cluster's pod, service and node addresses come from."""

    pods: str = DEFAULT_PODS
    services: str = DEFAULT_SERVICES
    nodes: str = DEFAULT_NODES
    master: str = ""

    def service_ip(self, index: int) -> str:
        """The index-th address of the services range (1: the `kubernetes` Service)."""
        network = ipaddress.ip_network(self.services, strict=False)
        return str(network[index % (network.num_addresses - 2) or 1])

    def service_slots(self) -> int:
        """How many service addresses the range has."""
        return int(ipaddress.ip_network(self.services, strict=False).num_addresses - 2)

    def node_ip(self, index: int) -> str:
        """A node's internal address in the subnet's primary range."""
        network = ipaddress.ip_network(self.nodes, strict=False)
        return str(network[2 + index % (network.num_addresses - 4)])

    def node_pod_cidr(self, index: int) -> str:
        """The /24 of the pod range a node's pods get addresses from."""
        network = ipaddress.ip_network(self.pods, strict=False)
        subnets = (
            2 ** (NODE_POD_PREFIX - network.prefixlen)
            if network.prefixlen <= NODE_POD_PREFIX
            else 1
        )
        chosen = network.network_address + (index % subnets) * 2 ** (32 - NODE_POD_PREFIX)
        return f"{chosen}/{max(NODE_POD_PREFIX, network.prefixlen)}"


def pod_ip(pod_cidr: str, seed: str) -> str:
    """A pod's address in its node's pod range (.2 to .254, from the seed)."""
    network = ipaddress.ip_network(pod_cidr, strict=False)
    digest = hashlib.sha256(seed.encode()).digest()
    return str(
        network[2 + int.from_bytes(digest[:2], "big") % (min(network.num_addresses, 256) - 3)]
    )


def networks_of(store: Store, cluster_key: str) -> Networks:
    """The ranges recorded for a cluster (Kubernetes' defaults when none were)."""
    record = store.get(CLUSTERS, cluster_key) or {}
    found = record.get("networks") or {}
    return Networks(
        pods=str(found.get("pods") or DEFAULT_PODS),
        services=str(found.get("services") or DEFAULT_SERVICES),
        nodes=str(found.get("nodes") or DEFAULT_NODES),
        master=str(found.get("master") or ""),
    )
