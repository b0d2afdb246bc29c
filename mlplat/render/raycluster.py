"""A team's RayCluster (KubeRay `ray.io/v1`), placed on the environment's GPU pools: node
selectors and tolerations come from the pools that match each worker group."""

from __future__ import annotations

from typing import Any

from mlplat.render.team import labels, workload_service_account
from mlplat.specs import Environment, NodePool, Platform, Team
from mlplat.specs.models import Resources, WorkerGroup

Manifest = dict[str, Any]

GPU_RESOURCE = "nvidia.com/gpu"
NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
PORTS = [("gcs-server", 6379), ("dashboard", 8265), ("client", 10001)]

API_VERSION = "ray.io/v1"


def cluster_name(team: Team) -> str:
    return f"{team.name}-ray"


def image(platform: Platform, team: Team) -> str:
    """The team's Ray image: explicit, or rayproject/ray at the Ray version (GPU build when a
    worker group has GPUs)."""
    if team.ray.image:
        return team.ray.image
    version = team.ray.version or platform.versions.ray
    gpu = any(w.resources.gpu for w in team.ray.workers)
    return f"docker.io/rayproject/ray:{version}-py311{'-gpu' if gpu else ''}"


def matching_pools(env: Environment, group: WorkerGroup) -> list[NodePool]:
    """The environment's pools a worker group may run on: same accelerator, and the preferred
    provisioning (reservation / on-demand / spot) when the group names one."""
    if group.accelerator is None:
        return []
    return [
        pool
        for pool in env.node_pools
        if pool.gpu is not None
        and pool.gpu.type == group.accelerator
        and (group.provisioning is None or pool.provisioning is group.provisioning)
    ]


def _resources(resources: Resources) -> dict[str, Any]:
    amounts: dict[str, str] = {"cpu": resources.cpu, "memory": resources.memory}
    if resources.gpu:
        amounts[GPU_RESOURCE] = str(resources.gpu)
    return {"requests": dict(amounts), "limits": dict(amounts)}


def _pod(
    team: Team, image_name: str, role: str, resources: Resources, placement: dict[str, Any]
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": f"ray-{role}",
        "image": image_name,
        "resources": _resources(resources),
        "securityContext": {"allowPrivilegeEscalation": False},
    }
    if role == "head":
        container["ports"] = [{"name": n, "containerPort": p} for n, p in PORTS]
    return {
        "metadata": {"labels": labels(team)},
        "spec": {
            "serviceAccountName": workload_service_account(team),
            "containers": [container],
            **placement,
        },
    }


def _placement(env: Environment, group: WorkerGroup) -> dict[str, Any]:
    pools = matching_pools(env, group)
    if not pools:
        return {}
    selector = (
        {NODEPOOL_LABEL: pools[0].name}
        if len(pools) == 1
        else {ACCELERATOR_LABEL: str(group.accelerator)}
    )
    tolerations = [{"key": GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    seen = set()
    for pool in pools:
        for taint in pool.taints:
            effect = "".join(part.capitalize() for part in taint.effect.value.split("_"))
            key = (taint.key, taint.value, effect)
            if key not in seen:
                seen.add(key)
                tolerations.append(
                    {"key": taint.key, "operator": "Equal", "value": taint.value, "effect": effect}
                )
    return {"nodeSelector": selector, "tolerations": tolerations}


def raycluster(platform: Platform, env: Environment, team: Team) -> Manifest:
    """The team's RayCluster with in-tree autoscaling between each group's bounds."""
    image_name = image(platform, team)
    version = team.ray.version or platform.versions.ray
    return {
        "apiVersion": API_VERSION,
        "kind": "RayCluster",
        "metadata": {
            "name": cluster_name(team),
            "namespace": team.namespace_name,
            "labels": labels(team),
        },
        "spec": {
            "rayVersion": version,
            "enableInTreeAutoscaling": True,
            "headGroupSpec": {
                "serviceType": "ClusterIP",
                "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": "0"},
                "template": _pod(team, image_name, "head", team.ray.head, {}),
            },
            "workerGroupSpecs": [
                {
                    "groupName": group.name,
                    "replicas": group.replicas,
                    "minReplicas": group.min_replicas,
                    "maxReplicas": group.max_replicas,
                    "rayStartParams": {},
                    "template": _pod(
                        team, image_name, "worker", group.resources, _placement(env, group)
                    ),
                }
                for group in team.ray.workers
            ],
        },
    }


def endpoint(team: Team) -> str:
    """The Ray client address inside the cluster."""
    return f"ray://{cluster_name(team)}-head-svc.{team.namespace_name}.svc:10001"
