"""A RayCluster's status as KubeRay reports it, from its pods, service and creation failures."""

from __future__ import annotations

from typing import Any

from sandbox.controllers.quantities import format_quantity, pod_resources
from sandbox.controllers.raycluster_pods import HEAD_GROUP, PORTS, groups, head_service_name
from sandbox.controllers.statuspatch import conditions

Obj = dict[str, Any]


def _condition(pod: Obj, kind: str) -> Obj:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return {}


def ready(pod: Obj) -> bool:
    """Running with the Ready condition."""
    phase = (pod.get("status") or {}).get("phase")
    return phase == "Running" and _condition(pod, "Ready").get("status") == "True"


def unschedulable(pod: Obj) -> str:
    """The scheduler's message for a pod no node can take, else ""."""
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return str(scheduled.get("message") or "Unschedulable")
    return ""


def _desired(raycluster: Obj) -> dict[str, str]:
    totals: dict[str, float] = {}
    for template, count in groups(raycluster).values():
        for name, value in pod_resources(template.get("spec") or {}).items():
            totals[name] = totals.get(name, 0.0) + value * count
    shown = {"desiredCPU": "cpu", "desiredMemory": "memory", "desiredGPU": "nvidia.com/gpu"}
    return {field: format_quantity(name, totals.get(name, 0.0)) for field, name in shown.items()}


def _all_running(pods: list[Obj]) -> bool:
    """KubeRay's CheckAllPodsRunning: every pod Running, none with a PodReady not True."""
    if not pods:
        return False
    for pod in pods:
        if (pod.get("status") or {}).get("phase") != "Running":
            return False
        found = _condition(pod, "Ready")
        if found and found.get("status") != "True":
            return False
    return True


def _state(
    raycluster: Obj, failure: Obj | None, pods: list[Obj], complete: bool
) -> tuple[str, str]:
    """`ready` once every pod runs, and then until suspended (KubeRay never takes it back,
    whatever the pods do next: kuberay#2188)."""
    if (raycluster.get("spec") or {}).get("suspend"):
        return "suspended", ""
    if failure is not None:
        return "failed", str(failure["message"])
    for pod in pods:
        why = unschedulable(pod)
        if why:
            return "failed", f"pod {pod['metadata']['name']} is unschedulable: {why}"
    was = (raycluster.get("status") or {}).get("state")
    return ("ready", "") if complete or was == "ready" else ("", "")


def head_pod_ready(heads: list[Obj]) -> Obj:
    """KubeRay's HeadPodReady condition: the head pod's PodReady condition, reason and message."""
    if not heads:
        return {
            "type": "HeadPodReady",
            "status": "False",
            "reason": "HeadPodNotFound",
            "message": "Head Pod not found",
        }
    found = _condition(heads[0], "Ready")
    status = str(found.get("status") or "False")
    reason = str(found.get("reason") or "")
    if status == "True" and not reason:
        reason = "HeadPodRunningAndReady"
    return {
        "type": "HeadPodReady",
        "status": status,
        "reason": reason or "Unknown",
        "message": str(found.get("message") or ""),
    }


def raycluster_status(
    raycluster: Obj,
    by_group: dict[str, list[Obj]],
    service: Obj | None,
    record: Obj,
    stamp: str,
    *,
    scaling: frozenset[str] = frozenset(),
) -> Obj:
    """The status for `raycluster`, given its pods per group, head service and record; pods
    named in `scaling` wait for a node the cluster autoscaler is adding (not a failure)."""
    wanted = groups(raycluster)
    workers_wanted = {g: n for g, (_, n) in wanted.items() if g != HEAD_GROUP}
    heads = by_group.get(HEAD_GROUP, [])
    workers = [p for g, found in by_group.items() if g != HEAD_GROUP for p in found]
    desired = sum(workers_wanted.values())
    ready_workers = sum(1 for p in workers if ready(p))
    complete = len(heads) == 1 and len(workers) == desired and _all_running(heads + workers)
    failure = record.get("failure")
    settled = [p for p in heads + workers if p["metadata"]["name"] not in scaling]
    state, reason = _state(raycluster, failure, settled, complete)
    if _all_running(heads + workers) and not (raycluster.get("spec") or {}).get("suspend"):
        record["provisioned"] = True  # the first time; KubeRay does not take it back
    spec = raycluster.get("spec") or {}
    worker_specs = spec.get("workerGroupSpecs") or []
    status: Obj = {
        "observedGeneration": raycluster["metadata"].get("generation", 1),
        "lastUpdateTime": stamp,
        "desiredWorkerReplicas": desired,
        "minWorkerReplicas": sum(int(w.get("minReplicas") or 0) for w in worker_specs),
        "maxWorkerReplicas": sum(int(w.get("maxReplicas") or 0) for w in worker_specs),
        "availableWorkerReplicas": sum(
            1 for p in workers if (p.get("status") or {}).get("phase") == "Running"
        ),
        "readyWorkerReplicas": ready_workers,
        **_desired(raycluster),
        "endpoints": {name: str(port) for name, port in PORTS.items()},
    }
    if state:
        status["state"] = state
    if reason:
        status["reason"] = reason
    head: Obj = {"serviceName": head_service_name(raycluster["metadata"]["name"])}
    if heads:
        head["podName"] = heads[0]["metadata"]["name"]
        if (heads[0].get("status") or {}).get("podIP"):
            head["podIP"] = heads[0]["status"]["podIP"]
    if service is not None and (service.get("spec") or {}).get("clusterIP"):
        head["serviceIP"] = service["spec"]["clusterIP"]
    status["head"] = head
    provisioned = bool(record.get("provisioned"))
    wanted_conditions = [
        head_pod_ready(heads),
        {
            "type": "RayClusterProvisioned",
            "status": "True" if provisioned else "False",
            "reason": "AllPodRunningAndReadyFirstTime"
            if provisioned
            else "RayClusterPodsProvisioning",
            "message": "All Ray Pods are ready for the first time"
            if provisioned
            else "RayCluster Pods are being provisioned for first time",
        },
    ]
    if failure is not None:
        failed = (
            "FailedCreateHeadPod" if failure["group"] == HEAD_GROUP else "FailedCreateWorkerPod"
        )
        wanted_conditions.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": failed,
                "message": failure["message"],
            }
        )
    old = (raycluster.get("status") or {}).get("conditions")
    status["conditions"] = conditions(old, wanted_conditions, stamp, update_time=False)
    return status
