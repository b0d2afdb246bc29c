"""What KubeRay makes for a RayCluster: its head Service and the head and worker Pods, with
KubeRay's names and labels."""

from __future__ import annotations

import copy
import secrets
import string
from typing import Any

Obj = dict[str, Any]
HEAD_GROUP = "headgroup"
PORTS = {"client": 10001, "dashboard": 8265, "gcs-server": 6379, "metrics": 8080, "serve": 8000}
_ALPHABET = string.ascii_lowercase + string.digits


def head_service_name(cluster: str) -> str:
    """`<cluster>-head-svc`."""
    return f"{cluster}-head-svc"


def _owner(raycluster: Obj) -> Obj:
    metadata = raycluster["metadata"]
    return {
        "apiVersion": raycluster.get("apiVersion", "ray.io/v1"),
        "kind": "RayCluster",
        "name": metadata["name"],
        "uid": metadata.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def ray_labels(cluster: str, node_type: str, group: str) -> dict[str, str]:
    """The labels KubeRay puts on a Ray node pod."""
    return {
        "ray.io/cluster": cluster,
        "ray.io/node-type": node_type,
        "ray.io/group": group,
        "ray.io/identifier": f"{cluster}-{node_type}",
        "ray.io/is-ray-node": "yes",
        "app.kubernetes.io/name": "kuberay",
        "app.kubernetes.io/created-by": "kuberay-operator",
    }


def head_service(raycluster: Obj) -> Obj:
    """The ClusterIP Service in front of the head pod."""
    metadata = raycluster["metadata"]
    name = metadata["name"]
    head = (raycluster.get("spec") or {}).get("headGroupSpec") or {}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": head_service_name(name),
            "namespace": metadata["namespace"],
            "labels": {
                "ray.io/cluster": name,
                "ray.io/node-type": "head",
                "ray.io/identifier": f"{name}-head",
                "app.kubernetes.io/name": "kuberay",
                "app.kubernetes.io/created-by": "kuberay-operator",
            },
            "ownerReferences": [_owner(raycluster)],
        },
        "spec": {
            "type": head.get("serviceType") or "ClusterIP",
            "selector": {"ray.io/cluster": name, "ray.io/node-type": "head"},
            "ports": [
                {"name": port, "port": number, "protocol": "TCP", "targetPort": number}
                for port, number in PORTS.items()
            ],
        },
    }


def groups(raycluster: Obj) -> dict[str, tuple[Obj, int]]:
    """(pod template, desired pods) per group: the head group, then each worker group."""
    spec = raycluster.get("spec") or {}
    if spec.get("suspend"):
        return {}
    head = spec.get("headGroupSpec") or {}
    found = {HEAD_GROUP: (head.get("template") or {}, 1)}
    for worker in spec.get("workerGroupSpecs") or []:
        if worker.get("suspend"):
            continue
        low, high = int(worker.get("minReplicas") or 0), worker.get("maxReplicas")
        replicas = int(worker.get("replicas", low) or 0)
        replicas = max(replicas, low)
        if high is not None:
            replicas = min(replicas, int(high))
        hosts = int(worker.get("numOfHosts") or 1)
        found[str(worker.get("groupName") or "workergroup")] = (
            worker.get("template") or {},
            replicas * hosts,
        )
    return found


def pod(raycluster: Obj, group: str, template: Obj) -> Obj:
    """A new Ray node pod of `group` from its template (random KubeRay-like suffix)."""
    metadata = raycluster["metadata"]
    name = metadata["name"]
    head = group == HEAD_GROUP
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(5))
    pod_name = f"{name}-head-{suffix}" if head else f"{name}-{group}-worker-{suffix}"
    template_meta = template.get("metadata") or {}
    labels = {
        **(template_meta.get("labels") or {}),
        **ray_labels(name, "head" if head else "worker", group),
    }
    spec = copy.deepcopy(template.get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    found: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "namespace": metadata["namespace"],
            "labels": labels,
            "ownerReferences": [_owner(raycluster)],
        },
        "spec": spec,
    }
    if template_meta.get("annotations"):
        found["metadata"]["annotations"] = dict(template_meta["annotations"])
    return found
