"""The Connect Gateway wired to the rest of the sandbox: a GKE cluster gets a Kubernetes API
when it comes up (and loses it when deleted), reached through its fleet membership or its
DNS-based control-plane endpoint; its `/version` is its GKE control plane's."""

from __future__ import annotations

import threading

from sandbox.gcp.container import cluster_events
from sandbox.gcp.container.cluster_store import CLUSTERS
from sandbox.gcp.container.control_plane import DNS_HOST
from sandbox.gcp.container.kubernetes_ranges import cluster_networks
from sandbox.gcp.gkehub.memberships import MEMBERSHIPS
from sandbox.gcp.resourcemanager.projects import find
from sandbox.k8s.cluster_registry import ClusterRegistry
from sandbox.k8s.gateway import Gateway
from sandbox.runtime import Runtime

_LINK_PREFIX = "//container.googleapis.com/"
_registered = threading.Lock()
_done = False


def connect_gateway() -> Gateway:
    """The `connectgateway` component, resolving memberships through GKE Hub's state."""
    _listen_to_clusters()
    gateway: Gateway

    def resolve(project_number: str, membership: str) -> str | None:
        rt = gateway.runtime
        return None if rt is None else cluster_of_membership(rt, project_number, membership)

    def resolve_dns(host: str) -> tuple[str, bool] | None:
        rt = gateway.runtime
        return None if rt is None else cluster_of_dns_endpoint(rt, host)

    def version_of(cluster_key: str) -> str | None:
        rt = gateway.runtime
        return None if rt is None else master_version(rt, cluster_key)

    gateway = Gateway(resolve, resolve_dns=resolve_dns, version_of=version_of)
    return gateway


class DnsEndpoints:
    """The `gkedns` entry of endpoints.json: the base URL standing in for `https://<host>` of
    every cluster's DNS endpoint (served by the gateway, see `sandbox.k8s.gateway`)."""

    name = "gkedns"

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    def start(self, rt: Runtime) -> str:
        return f"{self._gateway.url}/dns"

    def stop(self) -> None:
        """Nothing of its own to stop: the gateway serves it."""


def cluster_of_dns_endpoint(rt: Runtime, host: str) -> tuple[str, bool] | None:
    """The cluster key answering at a DNS endpoint host, and whether it admits user traffic."""
    match = DNS_HOST.fullmatch(host)
    owner = None if match is None else find(rt, match.group(1))
    if match is None or owner is None:
        return None
    project_id = str(owner["projectId"])
    for cluster in rt.store.values(CLUSTERS, f"{project_id}/{match.group(2)}/"):
        dns = cluster.get("controlPlaneEndpointsConfig", {}).get("dnsEndpointConfig", {})
        if dns.get("endpoint") == host:
            key = (
                f"projects/{project_id}/locations/{cluster['location']}/clusters/{cluster['name']}"
            )
            return key, bool(dns.get("allowExternalTraffic"))
    return None


def master_version(rt: Runtime, cluster_key: str) -> str | None:
    """The GKE control-plane version of `projects/P/locations/L/clusters/C`."""
    parts = cluster_key.split("/")
    if len(parts) != 6:
        return None
    cluster = rt.store.get(CLUSTERS, f"{parts[1]}/{parts[3]}/{parts[5]}")
    return None if cluster is None else str(cluster.get("currentMasterVersion") or "") or None


def cluster_of_membership(rt: Runtime, project: str, membership: str) -> str | None:
    """`projects/<id>/locations/<l>/clusters/<c>` of a READY membership's GKE cluster."""
    owner = find(rt, project)
    if owner is None:
        return None
    number = str(owner["name"]).split("/", 1)[1]
    doc = rt.store.get(MEMBERSHIPS, f"{number}/global/{membership}")
    if doc is None or doc.get("state", {}).get("code") != "READY":
        return None
    link = str(doc.get("endpoint", {}).get("gkeCluster", {}).get("resourceLink", ""))
    if not link.startswith(_LINK_PREFIX):
        return None
    parts = link.removeprefix(_LINK_PREFIX).split("/")
    if len(parts) != 6 or parts[0] != "projects":
        return None
    cluster_project = find(rt, parts[1])
    project_id = str(cluster_project["projectId"]) if cluster_project else parts[1]
    return f"projects/{project_id}/locations/{parts[3]}/clusters/{parts[5]}"


def _listen_to_clusters() -> None:
    global _done  # noqa: PLW0603 - process-wide listeners, registered once
    with _registered:
        if _done:
            return
        cluster_events.on_cluster_running(_cluster_up)
        cluster_events.on_cluster_deleted(_cluster_gone)
        _done = True


def _cluster_up(rt: Runtime, event: cluster_events.ClusterEvent) -> None:
    networks = cluster_networks(rt, event.project_id, event.cluster)
    ClusterRegistry(rt).create(event.path, networks)


def _cluster_gone(rt: Runtime, event: cluster_events.ClusterEvent) -> None:
    ClusterRegistry(rt).delete(event.path)
