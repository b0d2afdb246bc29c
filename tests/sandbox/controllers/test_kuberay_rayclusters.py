"""KubeRay through GitOps: the Ray CRDs and operator synced from Git, RayClusters applied through
the API become ready with their pods and head service, or fail on the namespace's GPU quota or
when no node pool can take a pod; deleting one deletes its pods."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.sandbox import gke_setup as gke
from tests.sandbox.controllers.fleet_env import POLICY_DIR, SYSTEM, Fleet, eventually

RAY = ("ray.io", "v1")
CRDS = "\n---\n".join(
    f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {plural}.ray.io
spec:
  group: ray.io
  names: {{kind: {kind}, listKind: {kind}List, plural: {plural}, singular: {kind.lower()}}}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {{status: {{}}}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
          status: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
"""
    for kind, plural in (("RayCluster", "rayclusters"), ("RayJob", "rayjobs"))
)
OPERATOR = """\
apiVersion: v1
kind: Namespace
metadata: {name: kuberay-system}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kuberay-operator, namespace: kuberay-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kuberay-operator, namespace: kuberay-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: kuberay-operator}}
  template:
    metadata: {labels: {app: kuberay-operator}}
    spec:
      serviceAccountName: kuberay-operator
      containers:
      - name: kuberay-operator
        image: quay.io/kuberay/operator:v1.1.1
        args: [--watch-namespace=team-r]
"""
TEAM = """\
apiVersion: v1
kind: Namespace
metadata: {name: team-r}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: team-quota, namespace: team-r}
spec:
  hard: {requests.nvidia.com/gpu: "2", requests.cpu: "40", pods: "10"}
"""


def raycluster(
    name: str, gpu_workers: int, head_selector: dict[str, str] | None = None
) -> dict[str, Any]:
    """A RayCluster: a CPU head and a group of L4 workers with one GPU each."""
    head_spec: dict[str, Any] = {
        "containers": [
            {
                "name": "ray-head",
                "image": "rayproject/ray:2.9.0",
                "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
            }
        ]
    }
    if head_selector:
        head_spec["nodeSelector"] = head_selector
    worker_spec = {
        "nodeSelector": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [
            {
                "name": "ray-worker",
                "image": "rayproject/ray:2.9.0-gpu",
                "resources": {
                    "requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
                    "limits": {"nvidia.com/gpu": "1"},
                },
            }
        ],
    }
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": name, "labels": {"team": "r"}},
        "spec": {
            "rayVersion": "2.9.0",
            "headGroupSpec": {
                "rayStartParams": {"dashboard-host": "0.0.0.0"},
                "template": {"metadata": {"labels": {"team": "r"}}, "spec": head_spec},
            },
            "workerGroupSpecs": [
                {
                    "groupName": "gpu",
                    "replicas": gpu_workers,
                    "minReplicas": 0,
                    "maxReplicas": 4,
                    "rayStartParams": {},
                    "template": {"metadata": {"labels": {"team": "r"}}, "spec": worker_spec},
                }
            ],
        },
    }


def _status(fleet: Fleet, name: str, namespace: str = "team-r") -> dict[str, Any]:
    found = fleet.custom.get_namespaced_custom_object(*RAY, namespace, "rayclusters", name)
    return dict(found.get("status") or {})


def _pods(fleet: Fleet, cluster: str) -> list[Any]:
    return list(
        fleet.core.list_namespaced_pod("team-r", label_selector=f"ray.io/cluster={cluster}").items
    )


def _install_kuberay(fleet: Fleet) -> None:
    """The Ray CRDs, the operator watching team-r, and team-r with its quota, from Git."""
    fleet.git_creds(SYSTEM)
    commit = fleet.push(
        {
            f"{POLICY_DIR}/kuberay/crds.yaml": CRDS,
            f"{POLICY_DIR}/kuberay/operator.yaml": OPERATOR,
            f"{POLICY_DIR}/team-r/team.yaml": TEAM,
        },
        "KubeRay, watching team-r",
    )
    fleet.synced(commit)
    apps = client.AppsV1Api(fleet.api)
    eventually(
        lambda: (
            apps.read_namespaced_deployment(
                "kuberay-operator", "kuberay-system"
            ).status.available_replicas
            == 1
        ),
        "operator available",
    )


def test_rayclusters_through_the_operator(fleet: Fleet) -> None:
    _install_kuberay(fleet)
    fleet.core.create_namespace({"metadata": {"name": "team-other"}})
    custom = fleet.custom
    custom.create_namespaced_custom_object(
        *RAY, "team-other", "rayclusters", raycluster("ignored", 0)
    )

    custom.create_namespaced_custom_object(*RAY, "team-r", "rayclusters", raycluster("ray", 1))
    status = eventually(
        lambda: _status(fleet, "ray").get("state") == "ready" and _status(fleet, "ray"), "ready"
    )
    pods = _pods(fleet, "ray")
    heads = [p for p in pods if p.metadata.labels["ray.io/node-type"] == "head"]
    workers = [p for p in pods if p.metadata.labels["ray.io/node-type"] == "worker"]
    assert len(heads) == len(workers) == 1
    assert heads[0].metadata.name.startswith("ray-head-")
    assert workers[0].metadata.name.startswith("ray-gpu-worker-")
    assert (
        workers[0].metadata.labels["ray.io/group"] == "gpu"
        and workers[0].metadata.labels["team"] == "r"
    )
    assert all(p.status.phase == "Running" for p in pods)
    assert {c.type: c.status for c in heads[0].status.conditions}["Ready"] == "True"
    service = fleet.core.read_namespaced_service("ray-head-svc", "team-r")
    assert service.spec.selector == {"ray.io/cluster": "ray", "ray.io/node-type": "head"}
    assert status["head"]["podIP"] == heads[0].status.pod_ip
    assert status["head"]["serviceIP"] == service.spec.cluster_ip
    assert status["endpoints"] == {
        "client": "10001",
        "dashboard": "8265",
        "gcs-server": "6379",
        "metrics": "8080",
        "serve": "8000",
    }
    assert (
        status["desiredWorkerReplicas"],
        status["readyWorkerReplicas"],
        status["availableWorkerReplicas"],
    ) == (1, 1, 1)
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "HeadPodReady": "True",
        "RayClusterProvisioned": "True",
    }
    quota = eventually(
        lambda: (
            (q := fleet.core.read_namespaced_resource_quota("team-quota", "team-r")).status.used
            and q.status.used.get("requests.nvidia.com/gpu") == "1"
            and q
        ),
        "quota usage",
    )
    assert quota.status.used["pods"] == "2"

    # Two more GPUs on a quota of two, one already used: the second worker is refused.
    custom.create_namespaced_custom_object(*RAY, "team-r", "rayclusters", raycluster("big", 2))
    failed = eventually(
        lambda: _status(fleet, "big").get("state") == "failed" and _status(fleet, "big"),
        "big failed",
    )
    assert "exceeded quota: team-quota" in failed["reason"]
    assert (
        "requested: requests.nvidia.com/gpu=1, used: requests.nvidia.com/gpu=2, "
        "limited: requests.nvidia.com/gpu=2" in failed["reason"]
    )
    failure = next(c for c in failed["conditions"] if c["type"] == "ReplicaFailure")
    assert failure["reason"] == "FailedCreateWorkerPod"
    assert (
        len([p for p in _pods(fleet, "big") if p.metadata.labels["ray.io/node-type"] == "worker"])
        == 1
    )

    # No node pool (nor auto-provisioning) offers H100s: the head stays Pending, unschedulable.
    h100 = raycluster("h100", 0, {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"})
    custom.create_namespaced_custom_object(*RAY, "team-r", "rayclusters", h100)
    stuck = eventually(
        lambda: _status(fleet, "h100").get("state") == "failed" and _status(fleet, "h100"),
        "h100 failed",
    )
    nodes = len(fleet.core.list_node().items)  # the system pool's and those scaled up for GPUs
    assert (
        f"is unschedulable: 0/{nodes} nodes are available: "
        f"{nodes} node(s) didn't match Pod's node affinity/selector" in stuck["reason"]
    )
    head = _pods(fleet, "h100")[0]
    said = eventually(
        lambda: [
            e.message
            for e in fleet.core.list_namespaced_event(
                "team-r", field_selector=f"involvedObject.name={head.metadata.name}"
            ).items
            if e.reason == "NotTriggerScaleUp"
        ],
        "the autoscaler's answer",
    )
    assert "nvidia-h100-80gb is not within the cluster's node auto-provisioning limits" in said[0]
    scheduled = {c.type: c for c in head.status.conditions}["PodScheduled"]
    assert (head.status.phase, scheduled.status, scheduled.reason) == (
        "Pending",
        "False",
        "Unschedulable",
    )

    custom.delete_namespaced_custom_object(*RAY, "team-r", "rayclusters", "ray")
    eventually(lambda: not _pods(fleet, "ray"), "pods of ray deleted")
    eventually(
        lambda: (
            not fleet.core.list_namespaced_service(
                "team-r", label_selector="ray.io/cluster=ray"
            ).items
        ),
        "head service deleted",
    )
    assert not _status(fleet, "ignored", "team-other")  # not a watched namespace
    assert not fleet.core.list_namespaced_pod("team-other").items


def test_a_raycluster_is_ready_after_the_modelled_delay(fleet: Fleet) -> None:
    """Realistic latency: pods are scheduled at once but run, and the RayCluster is ready, only
    after its modelled start-up (60 s / 120 s on the sandbox clock, here divided by 5)."""
    _install_kuberay(fleet)
    rt = fleet.sandbox.rt
    with gke.slow_operations(fleet.sandbox, time_scale=5.0):
        fleet.custom.create_namespaced_custom_object(
            *RAY, "team-r", "rayclusters", raycluster("later", 0)
        )
        head = eventually(lambda: _pods(fleet, "later"), "head pod created")[0]
        # journaled under the RayCluster (the benchmark joins it to its namespace's RepoSync)
        drawn = [s for s in rt.latency.journal() if s["key"] == "controllers:kuberay.raycluster"]
        assert [s["subject"].split("|")[1:] for s in drawn] == [["team-r", "later"]]
        scheduled = eventually(
            lambda: {
                c.type: c.status
                for c in fleet.core.read_namespaced_pod(
                    head.metadata.name, "team-r"
                ).status.conditions
                or []
            }.get("PodScheduled"),
            "head scheduled",
        )
        assert scheduled == "True"
        assert _status(fleet, "later").get("state") != "ready"
        assert (
            fleet.core.read_namespaced_pod(head.metadata.name, "team-r").status.phase == "Pending"
        )

        def ready() -> bool:
            if _status(fleet, "later").get("state") == "ready":
                return True
            rt.advance(10)
            return False

        eventually(ready, "ready after advancing the clock", timeout=20)
