"""The scheduler and kubelets, reduced to what clients observe: a Pod no node pool can take
stays Pending with `PodScheduled=False` (reason Unschedulable); any other becomes Running and
Ready once its start time is due (a Ray pod: its RayCluster's modelled readiness), with IPs,
conditions and container statuses. Pending pods' start times live in `controllers.pods`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sandbox.controllers import settings as timing
from sandbox.controllers.context import Context
from sandbox.controllers.nodepools import capacity_of, unschedulable
from sandbox.controllers.statuspatch import conditions, write_status
from sandbox.k8s.backend import backend
from sandbox.k8s.clusterapi import ClusterApi
from sandbox.k8s.errors import StatusError

Obj = dict[str, Any]
PODS = "controllers.pods"
DueOf = Callable[[Obj], "float | None"]
_DONE = ("Running", "Succeeded", "Failed")
_READY = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _ip(prefix: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}.{digest[0]}.{digest[1] % 254 + 1}"


def qos_class(spec: Obj) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' requests and limits."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    for r in resources:
        limits, requests = r.get("limits") or {}, r.get("requests") or {}
        for name in ("cpu", "memory"):
            if name not in limits or requests.get(name, limits[name]) != limits[name]:
                return "Burstable"
    return "Guaranteed"


def _condition(kind: str, status: str, reason: str = "", message: str = "") -> Obj:
    found: Obj = {"type": kind, "status": status, "lastProbeTime": None}
    if reason:
        found["reason"] = reason
    if message:
        found["message"] = message
    return found


def pending_status(pod: Obj, why: str, stamp: str) -> Obj:
    """A pod no node can take."""
    wanted = [_condition("PodScheduled", "False", "Unschedulable", why)]
    old = (pod.get("status") or {}).get("conditions")
    return {
        "phase": "Pending",
        "qosClass": qos_class(pod.get("spec") or {}),
        "conditions": conditions(old, wanted, stamp, update_time=False),
    }


def running_status(pod: Obj, stamp: str) -> Obj:
    """A pod whose containers all run and are ready."""
    spec, uid = pod.get("spec") or {}, str(pod["metadata"].get("uid"))
    host, address = _ip("10.0", uid), _ip("10.4", uid + "/pod")
    old = pod.get("status") or {}
    statuses = [
        {
            "name": c.get("name"),
            "image": c.get("image"),
            "imageID": f"{c.get('image')}@sha256:{_sha(str(c.get('image')))}",
            "containerID": f"containerd://{_sha(uid + str(c.get('name')))}",
            "ready": True,
            "started": True,
            "restartCount": 0,
            "state": {"running": {"startedAt": old.get("startTime", stamp)}},
        }
        for c in spec.get("containers") or []
    ]
    return {
        "phase": "Running",
        "qosClass": qos_class(spec),
        "hostIP": host,
        "hostIPs": [{"ip": host}],
        "podIP": address,
        "podIPs": [{"ip": address}],
        "startTime": old.get("startTime", stamp),
        "conditions": conditions(
            old.get("conditions"), [_condition(k, "True") for k in _READY], stamp, update_time=False
        ),
        "containerStatuses": statuses,
    }


def scheduled_status(pod: Obj, stamp: str) -> Obj:
    """A pod bound to a node whose containers are still starting."""
    old = (pod.get("status") or {}).get("conditions")
    wanted = [_condition("PodScheduled", "True")]
    return {
        "phase": "Pending",
        "qosClass": qos_class(pod.get("spec") or {}),
        "conditions": conditions(old, wanted, stamp, update_time=False),
    }


class Kubelets:
    """Schedules and starts one cluster's pending pods."""

    def __init__(self, ctx: Context, cluster_key: str, due_of: DueOf) -> None:
        self.ctx = ctx
        self.cluster_key = cluster_key
        self.due_of = due_of
        self.api = ClusterApi(ctx.rt, cluster_key, manager="kubelet")
        self.capacity = capacity_of(ctx.rt, cluster_key)

    def _due(self, key: str, pod: Obj) -> float:
        store, metadata = self.ctx.rt.store, pod["metadata"]
        record = store.get(PODS, key)
        if record is None or record.get("uid") != metadata.get("uid"):
            due = self.due_of(pod)
            if due is None:
                due = self.ctx.now + timing.delay(self.ctx.rt, timing.POD_START)
            record = {"uid": metadata.get("uid"), "dueAt": due}
            store.put(PODS, key, record)
        return float(record["dueAt"])

    def reconcile(self, pod: Obj) -> str:
        """Advance one pending pod; returns its record key while it waits to start."""
        metadata, stamp = pod["metadata"], self.ctx.stamp
        why = unschedulable(self.capacity, pod.get("spec") or {})
        if why:
            write_status(self.api, pod, pending_status(pod, why, stamp))
            return ""
        key = f"{self.cluster_key}|{metadata['namespace']}|{metadata['name']}"
        if self.ctx.now >= self._due(key, pod):
            write_status(self.api, pod, running_status(pod, stamp))
            return ""
        write_status(self.api, pod, scheduled_status(pod, stamp))
        return key


def reconcile_pods(ctx: Context, cluster_key: str, due_of: DueOf) -> None:
    """Schedule and start the cluster's pending pods; forget start times no longer needed."""
    kubelets: Kubelets | None = None
    waiting = set()
    for stored in backend(ctx.rt).objects(cluster_key).select("core/pods"):
        phase = (stored.get("status") or {}).get("phase")
        if stored["metadata"].get("deletionTimestamp") or phase in _DONE:
            continue
        kubelets = kubelets or Kubelets(ctx, cluster_key, due_of)
        try:
            waiting.add(kubelets.reconcile({"apiVersion": "v1", "kind": "Pod", **stored}))
        except (StatusError, KeyError):
            continue
    for key, _ in ctx.rt.store.items(PODS, f"{cluster_key}|"):
        if key not in waiting:
            ctx.rt.store.delete(PODS, key)
