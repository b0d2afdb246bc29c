"""What a new GKE cluster already runs: the `default/kubernetes` Service (first address of the
services range) and its Endpoints (the control plane's private endpoint), and GKE's system
Deployments in kube-system (DNS, its autoscaler, konnectivity, metrics-server, the event
exporter) with the `kube-dns` Service at the range's tenth address."""

from __future__ import annotations

from typing import Any

from sandbox.k8s.ip_ranges import Networks

Obj = dict[str, Any]
SYSTEM = "kube-system"
_CRITICAL = [{"key": "CriticalAddonsOnly", "operator": "Exists"}]


def _container(name: str, image: str, cpu: str, memory: str) -> Obj:
    return {
        "name": name,
        "image": f"gke.gcr.io/{image}",
        "resources": {"requests": {"cpu": cpu, "memory": memory}},
    }


def _deployment(app: str, replicas: int, containers: list[Obj], account: str = "") -> Obj:
    labels = {"k8s-app": app}
    pod_spec: Obj = {
        "priorityClassName": "system-cluster-critical",
        "tolerations": _CRITICAL,
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "containers": containers,
    }
    if account:
        pod_spec["serviceAccountName"] = account
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": app,
            "namespace": SYSTEM,
            "labels": {**labels, "addonmanager.kubernetes.io/mode": "Reconcile"},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def system_objects(networks: Networks) -> list[Obj]:
    """The objects GKE puts in a new cluster, in creation order."""
    api_labels = {"component": "apiserver", "provider": "kubernetes"}
    objects: list[Obj] = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": api_labels},
            "spec": {
                "type": "ClusterIP",
                "clusterIP": networks.service_ip(1),
                "clusterIPs": [networks.service_ip(1)],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kube-dns",
                "namespace": SYSTEM,
                "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "KubeDNS"},
            },
            "spec": {
                "selector": {"k8s-app": "kube-dns"},
                "clusterIP": networks.service_ip(10),
                "clusterIPs": [networks.service_ip(10)],
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                ],
            },
        },
        _deployment(
            "kube-dns",
            2,
            [
                _container("kubedns", "k8s-dns-kube-dns:1.23.0-gke.9", "100m", "70Mi"),
                _container("dnsmasq", "k8s-dns-dnsmasq-nanny:1.23.0-gke.9", "150m", "20Mi"),
                _container("sidecar", "k8s-dns-sidecar:1.23.0-gke.9", "10m", "20Mi"),
            ],
            "kube-dns",
        ),
        _deployment(
            "kube-dns-autoscaler",
            1,
            [
                _container(
                    "autoscaler", "cluster-proportional-autoscaler:v1.8.11-gke.6", "20m", "10Mi"
                )
            ],
            "kube-dns-autoscaler",
        ),
        _deployment(
            "konnectivity-agent",
            1,
            [_container("konnectivity-agent", "proxy-agent:v0.30.3-gke.10", "10m", "30Mi")],
            "konnectivity-agent",
        ),
        _deployment(
            "metrics-server-v1",
            1,
            [_container("metrics-server", "metrics-server:v0.7.1-gke.23", "43m", "55Mi")],
            "metrics-server",
        ),
        _deployment(
            "event-exporter-gke",
            1,
            [_container("event-exporter", "event-exporter:v0.4.0-gke.16", "10m", "20Mi")],
            "event-exporter-sa",
        ),
    ]
    if networks.master:
        objects.insert(
            1,
            {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                },
                "subsets": [
                    {
                        "addresses": [{"ip": networks.master}],
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
                    }
                ],
            },
        )
    return objects
