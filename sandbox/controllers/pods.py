"""The scheduler and kubelets, reduced to what clients observe: a Pod no node pool can take
stays Pending with `PodScheduled=False` (reason Unschedulable); any other becomes Running once
its start time is due (a Ray pod: its RayCluster's modelled readiness), with IPs, conditions and
container statuses, and Ready after its readiness time (`settings.readiness`). Start and
readiness times of pods not yet Ready live in `controllers.pods`.
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


def running_status(pod: Obj, stamp: str, ready: bool = True) -> Obj:
    """A pod whose containers all run (and are ready, or not yet)."""
    spec, uid = pod.get("spec") or {}, str(pod["metadata"].get("uid"))
    host, address = _ip("10.0", uid), _ip("10.4", uid + "/pod")
    old = pod.get("status") or {}
    statuses = [
        {
            "name": c.get("name"),
            "image": c.get("image"),
            "imageID": f"{c.get('image')}@sha256:{_sha(str(c.get('image')))}",
            "containerID": f"containerd://{_sha(uid + str(c.get('name')))}",
            "ready": ready,
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
            old.get("conditions"), _running(spec, ready), stamp, update_time=False
        ),
        "containerStatuses": statuses,
    }


def _running(spec: Obj, ready: bool) -> list[Obj]:
    if ready:
        return [_condition(k, "True") for k in _READY]
    names = " ".join(str(c.get("name")) for c in spec.get("containers") or [])
    why = f"containers with unready status: [{names}]"
    return [
        _condition(k, "False", "ContainersNotReady", why)
        if k in ("Ready", "ContainersReady")
        else _condition(k, "True")
        for k in _READY
    ]


def scheduled_status(pod: Obj, stamp: str) -> Obj:
    """A pod bound to a node whose containers are still starting."""
    old = (pod.get("status") or {}).get("conditions")
    wanted = [_condition("PodScheduled", "True")]
    return {
        "phase": "Pending",
        "qosClass": qos_class(pod.get("spec") or {}),
        "conditions": conditions(old, wanted, stamp, update_time=False),
    }


def pod_key(cluster_key: str, pod: Obj) -> str:
    """The store key of a pod's start record."""
    return f"{cluster_key}|{pod['metadata']['namespace']}|{pod['metadata']['name']}"


class Kubelets:
    """Schedules and starts one cluster's pending pods."""

    def __init__(self, ctx: Context, cluster_key: str, due_of: DueOf) -> None:
        self.ctx = ctx
        self.cluster_key = cluster_key
        self.due_of = due_of
        self.api = ClusterApi(ctx.rt, cluster_key, manager="kubelet")
        self.capacity = capacity_of(ctx.rt, cluster_key)

    def _record(self, key: str, pod: Obj) -> Obj:
        store, metadata = self.ctx.rt.store, pod["metadata"]
        record: Obj | None = store.get(PODS, key)
        if record is None or record.get("uid") != metadata.get("uid"):
            due = self.due_of(pod)
            record = {"uid": metadata.get("uid"), "dueAt": due, "modelled": due is not None}
            if due is None:
                record["dueAt"] = self.ctx.now + timing.delay(self.ctx.rt, timing.POD_START)
            store.put(PODS, key, record)
        return record

    def _ready_at(self, key: str, record: Obj) -> float:
        if "readyAt" not in record:
            # a Ray pod's modelled readiness (the RayCluster's) already includes its probes
            lag = timing.readiness(self.ctx.rt, self.ctx.settings, drawn=not record.get("modelled"))
            record = {**record, "readyAt": self.ctx.now + lag}
            self.ctx.rt.store.put(PODS, key, record)
        return float(record["readyAt"])

    def reconcile(self, pod: Obj) -> str:
        """Advance one pod not yet Ready; returns its record key while it waits."""
        stamp = self.ctx.stamp
        why = unschedulable(self.capacity, pod.get("spec") or {})
        if why:
            write_status(self.api, pod, pending_status(pod, why, stamp))
            return ""
        key = pod_key(self.cluster_key, pod)
        record = self._record(key, pod)
        if self.ctx.now >= float(record["dueAt"]):
            ready = self.ctx.now >= self._ready_at(key, record)
            write_status(self.api, pod, running_status(pod, stamp, ready))
            return "" if ready else key
        write_status(self.api, pod, scheduled_status(pod, stamp))
        return key


def reconcile_pods(ctx: Context, cluster_key: str, due_of: DueOf) -> None:
    """Schedule and start the cluster's pending pods; forget start times no longer needed."""
    kubelets: Kubelets | None = None
    waiting = set()
    for stored in backend(ctx.rt).objects(cluster_key).select("core/pods"):
        phase = (stored.get("status") or {}).get("phase")
        starting = phase == "Running" and ctx.rt.store.get(PODS, pod_key(cluster_key, stored))
        if stored["metadata"].get("deletionTimestamp") or (phase in _DONE and not starting):
            continue
        kubelets = kubelets or Kubelets(ctx, cluster_key, due_of)
        try:
            waiting.add(kubelets.reconcile({"apiVersion": "v1", "kind": "Pod", **stored}))
        except (StatusError, KeyError):
            continue
    for key, _ in ctx.rt.store.items(PODS, f"{cluster_key}|"):
        if key not in waiting:
            ctx.rt.store.delete(PODS, key)
