"""The scheduler, the cluster autoscaler and the kubelets, reduced to what clients observe.

In a GKE cluster a pod is bound to a Node that takes it (`scheduling_filters`), with a `Scheduled`
event; a pod no node takes stays Pending with `PodScheduled=False` (Unschedulable) and a
`FailedScheduling` event, and the autoscaler adds a node to a pool that fits, or an
auto-provisioned one (`TriggeredScaleUp`), or says why not (`NotTriggerScaleUp`). A bound pod
becomes Running once its start time is due (a Ray pod: its RayCluster's modelled readiness),
with the node's host IP and an IP of the node's pod range, the kubelet's events, and Ready after
its readiness time (`settings.readiness`); a Job's pod then Succeeds after its modelled run.
Start, readiness and end times of pods not yet settled live in `controllers.pods`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sandbox.controllers import settings as timing
from sandbox.controllers.autoscaler import scale_up_for
from sandbox.controllers.context import Context
from sandbox.controllers.pool_capacity import capacity_of
from sandbox.controllers.quantities import pod_resources
from sandbox.controllers.scheduling_filters import NodeView, node_views, place
from sandbox.controllers.statuspatch import conditions, write_status
from sandbox.k8s import events
from sandbox.k8s.backend import backend
from sandbox.k8s.cluster_registry import open_cluster
from sandbox.k8s.errors import StatusError
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.k8s.ip_ranges import Networks, pod_ip
from sandbox.runtime import Runtime

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


def _addresses(pod: Obj, node: NodeView | None) -> tuple[str, str]:
    """(host IP, pod IP): the node's, and one of its pod range (no node: Kubernetes' default
    ranges, for a cluster that is not GKE's)."""
    uid = str(pod["metadata"].get("uid"))
    if node is None:
        return _ip("10.0", uid), pod_ip(Networks().node_pod_cidr(0), uid)
    if (pod.get("spec") or {}).get("hostNetwork"):
        return node.ip, node.ip
    return node.ip, pod_ip(node.pod_cidr or Networks().node_pod_cidr(0), uid)


def runs_to_completion(pod: Obj) -> bool:
    """A Job's pod, or one whose containers are not restarted: it ends."""
    owners = pod["metadata"].get("ownerReferences") or []
    restart = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    return restart != "Always" or any(o.get("kind") == "Job" for o in owners)


def succeeded_status(pod: Obj, stamp: str, node: NodeView | None) -> Obj:
    """A pod whose containers all exited 0."""
    spec, uid = pod.get("spec") or {}, str(pod["metadata"].get("uid"))
    host, address = _addresses(pod, node)
    old = pod.get("status") or {}
    started = old.get("startTime", stamp)
    statuses = [
        {
            "name": c.get("name"),
            "image": c.get("image"),
            "imageID": f"{c.get('image')}@sha256:{_sha(str(c.get('image')))}",
            "containerID": f"containerd://{_sha(uid + str(c.get('name')))}",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": started,
                    "finishedAt": stamp,
                    "containerID": f"containerd://{_sha(uid + str(c.get('name')))}",
                }
            },
        }
        for c in spec.get("containers") or []
    ]
    done = [
        _condition(k, "False", "PodCompleted")
        if k in ("Ready", "ContainersReady")
        else _condition(k, "False")
        if k == "PodReadyToStartContainers"
        else _condition(k, "True")
        for k in _READY
    ]
    return {
        "phase": "Succeeded",
        "qosClass": qos_class(spec),
        "hostIP": host,
        "hostIPs": [{"ip": host}],
        "podIP": address,
        "podIPs": [{"ip": address}],
        "startTime": started,
        "conditions": conditions(old.get("conditions"), done, stamp, update_time=False),
        "containerStatuses": statuses,
    }


def running_status(pod: Obj, stamp: str, ready: bool = True, node: NodeView | None = None) -> Obj:
    """A pod whose containers all run (and are ready, or not yet)."""
    spec, uid = pod.get("spec") or {}, str(pod["metadata"].get("uid"))
    host, address = _addresses(pod, node)
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


def awaits_scale_up(rt: Runtime, cluster_key: str, pod: Obj) -> bool:
    """Whether the cluster autoscaler is adding a node for this pending pod."""
    record = rt.store.get(PODS, pod_key(cluster_key, pod)) or {}
    pending = (pod.get("status") or {}).get("phase") == "Pending"
    return (
        pending and bool(record.get("scaleUp")) and record.get("uid") == pod["metadata"].get("uid")
    )


class Kubelets:
    """Schedules, scales up for, starts and ends one cluster's pods."""

    def __init__(self, ctx: Context, cluster_key: str, due_of: DueOf) -> None:
        self.ctx = ctx
        self.cluster_key = cluster_key
        self.due_of = due_of
        self.api = ClusterApi(ctx.rt, cluster_key, manager="kubelet")
        self.capacity = capacity_of(ctx.rt, cluster_key)
        self.cluster = open_cluster(backend(ctx.rt), cluster_key)
        self._views: dict[str, NodeView] | None = None

    def views(self) -> dict[str, NodeView]:
        """The cluster's Ready nodes with what is bound to them (read once per pass)."""
        if self._views is None:
            objects = self.cluster.objects
            self._views = node_views(objects.select("core/nodes"), objects.select("core/pods"))
        return self._views

    def _event(self, pod: Obj, kind: str, reason: str, message: str, component: str) -> None:
        host = str((pod.get("spec") or {}).get("nodeName") or "")
        events.record(self.cluster, pod, kind, reason, message, component=component, host=host)

    def _record(self, key: str, pod: Obj) -> Obj:
        store, metadata = self.ctx.rt.store, pod["metadata"]
        record: Obj | None = store.get(PODS, key)
        if record is None or record.get("uid") != metadata.get("uid") or "dueAt" not in record:
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

    def _schedule(self, pod: Obj) -> tuple[Obj | None, str]:
        """Bind the pod to a node (the pod as bound), or leave it Pending (its wait key)."""
        spec, metadata = pod.get("spec") or {}, pod["metadata"]
        node, why = place(self.views(), spec)
        if node is not None:
            bound = self.api.patch(
                "v1",
                "Pod",
                metadata["name"],
                {"spec": {"nodeName": node.name}},
                metadata["namespace"],
            )
            node.pods += 1
            for name, value in pod_resources(spec).items():
                node.used[name] = node.used.get(name, 0.0) + value
            where = f"{metadata['namespace']}/{metadata['name']}"
            self._event(
                bound,
                events.NORMAL,
                "Scheduled",
                f"Successfully assigned {where} to {node.name}",
                "default-scheduler",
            )
            return {"apiVersion": "v1", "kind": "Pod", **bound}, ""
        said = next(
            (
                c.get("message")
                for c in (pod.get("status") or {}).get("conditions") or []
                if c.get("type") == "PodScheduled"
            ),
            None,
        )
        write_status(self.api, pod, pending_status(pod, why, self.ctx.stamp))
        if said != why:
            self._event(pod, events.WARNING, "FailedScheduling", why, "default-scheduler")
        return None, self._autoscale(pod)

    def _autoscale(self, pod: Obj) -> str:
        """The cluster autoscaler for an unschedulable pod: a node of a pool (or a new
        auto-provisioned one) that fits; the pod's wait key while that node comes."""
        key = pod_key(self.cluster_key, pod)
        record = self.ctx.rt.store.get(PODS, key) or {}
        ready = len(self.views())  # a node that came since, taken by other pods: scale up again
        mine = record.get("uid") == pod["metadata"].get("uid")
        if mine and record.get("scaleUp") and ready <= int(record.get("nodes", ready)):
            return key
        grown, why = scale_up_for(self.ctx, self.cluster_key, self.capacity, pod)
        if grown:
            self._event(pod, events.NORMAL, "TriggeredScaleUp", grown, "cluster-autoscaler")
            uid = pod["metadata"].get("uid")
            self.ctx.rt.store.put(PODS, key, {"uid": uid, "scaleUp": True, "nodes": ready})
            return key
        said = record.get("notTriggered")
        if said != why:
            self._event(pod, events.NORMAL, "NotTriggerScaleUp", why, "cluster-autoscaler")
            self.ctx.rt.store.put(
                PODS, key, {"uid": pod["metadata"].get("uid"), "notTriggered": why}
            )
        return key

    def _start_events(self, pod: Obj) -> None:
        for container in (pod.get("spec") or {}).get("containers") or []:
            name, image = container.get("name"), container.get("image")
            self._event(pod, events.NORMAL, "Pulling", f'Pulling image "{image}"', "kubelet")
            self._event(
                pod,
                events.NORMAL,
                "Pulled",
                f'Successfully pulled image "{image}" in 1.2s (1.2s including waiting). '
                "Image size: 52428800 bytes.",
                "kubelet",
            )
            self._event(pod, events.NORMAL, "Created", f"Created container: {name}", "kubelet")
            self._event(pod, events.NORMAL, "Started", f"Started container {name}", "kubelet")

    def reconcile(self, pod: Obj) -> str:
        """Advance one pod not yet settled; returns its record key while it waits."""
        stamp = self.ctx.stamp
        if self.capacity is not None and not (pod.get("spec") or {}).get("nodeName"):
            bound, waiting = self._schedule(pod)
            if bound is None:
                return waiting
            pod = bound
        node = self.views().get(str((pod.get("spec") or {}).get("nodeName") or ""))
        key = pod_key(self.cluster_key, pod)
        record = self._record(key, pod)
        if self.ctx.now < float(record["dueAt"]):
            write_status(self.api, pod, scheduled_status(pod, stamp))
            return key
        ready = self.ctx.now >= self._ready_at(key, record)
        phase = (pod.get("status") or {}).get("phase")
        if runs_to_completion(pod) and ready:
            if "endAt" not in record:
                record = {
                    **record,
                    "endAt": self.ctx.now + timing.delay(self.ctx.rt, timing.POD_RUN),
                }
                self.ctx.rt.store.put(PODS, key, record)
            if self.ctx.now >= float(record["endAt"]):
                write_status(self.api, pod, succeeded_status(pod, stamp, node))
                return ""
        if phase != "Running":
            self._start_events(pod)
        write_status(self.api, pod, running_status(pod, stamp, ready, node))
        return "" if ready and not runs_to_completion(pod) else key


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
