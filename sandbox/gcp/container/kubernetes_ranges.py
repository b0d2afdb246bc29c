"""What a GKE cluster's Kubernetes side needs of its network: the pod and service ranges, the
subnet's primary range (node addresses) and the control plane's private endpoint."""

from __future__ import annotations

from typing import Any

from sandbox.gcp.compute.stored import SUBNETWORKS
from sandbox.runtime import Runtime


def cluster_networks(rt: Runtime, project_id: str, cluster: dict[str, Any]) -> dict[str, str]:
    """{"pods", "services", "nodes", "master"} of a stored GKE cluster ("" when unknown)."""
    subnet = str((cluster.get("networkConfig") or {}).get("subnetwork") or "")
    parts = subnet.split("/")
    nodes = ""
    if len(parts) == 6:
        doc = rt.store.get(SUBNETWORKS, f"{project_id}/{parts[3]}/{parts[5]}") or {}
        nodes = str(doc.get("ipCidrRange") or "")
    private = cluster.get("privateClusterConfig") or {}
    return {
        "pods": str(cluster.get("clusterIpv4Cidr") or ""),
        "services": str(cluster.get("servicesIpv4Cidr") or ""),
        "nodes": nodes,
        "master": str(private.get("privateEndpoint") or ""),
    }
