"""A team's JupyterLab (the seed's "TBD" CUJ): a Deployment and Service in the team namespace,
reached with `kubectl port-forward` by members whose role allows it."""

from __future__ import annotations

from typing import Any

from mlplat.render.team import labels, workload_service_account
from mlplat.specs import Team

Manifest = dict[str, Any]
PORT = 8888


def name(team: Team) -> str:
    return f"{team.name}-notebook"


def notebook(team: Team) -> list[Manifest]:
    """Deployment + Service, when the team's spec enables the notebook."""
    if not team.notebook.enabled:
        return []
    resources = {"cpu": team.notebook.resources.cpu, "memory": team.notebook.resources.memory}
    selector = {"app.kubernetes.io/name": name(team)}
    pod_labels = {**labels(team), **selector}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": name(team),
                "namespace": team.namespace_name,
                "labels": labels(team),
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {
                        "serviceAccountName": workload_service_account(team),
                        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000},
                        "containers": [
                            {
                                "name": "jupyterlab",
                                "image": team.notebook.image,
                                "args": ["start-notebook.py", "--ServerApp.ip=0.0.0.0"],
                                "ports": [{"name": "http", "containerPort": PORT}],
                                "resources": {"requests": resources, "limits": resources},
                                "readinessProbe": {"httpGet": {"path": "/api", "port": PORT}},
                            }
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name(team),
                "namespace": team.namespace_name,
                "labels": labels(team),
            },
            "spec": {
                "selector": selector,
                "ports": [{"name": "http", "port": PORT, "targetPort": PORT}],
            },
        },
    ]
