"""KubeRay reconciling RayClusters: in a namespace the running operator watches, a RayCluster
gets its head Service and its head and worker Pods (created through the API as the operator's
service account, so quotas and Policy Controller apply), scaled to the spec, and its status.
Pods and Services owned by a RayCluster that is gone are deleted (garbage collection).

Per RayCluster (`controllers.rayclusters`): when it should be ready, creation failures, retries.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sandbox import latency
from sandbox.controllers import settings as timing
from sandbox.controllers.context import Context
from sandbox.controllers.kuberay_operator import Operator
from sandbox.controllers.pods import awaits_scale_up
from sandbox.controllers.raycluster_pods import groups, head_service, head_service_name, pod
from sandbox.controllers.raycluster_status import raycluster_status
from sandbox.controllers.statuspatch import write_status
from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import user_info
from sandbox.k8s.inprocess_client import ClusterApi

Obj = dict[str, Any]
RAYCLUSTERS = "controllers.rayclusters"
LIVE = "controllers.rayclusters.live"  # per cluster: the uids of its RayClusters last pass
RAY_API = "ray.io/v1"


def record_key(cluster_key: str, namespace: str, name: str) -> str:
    """The store key of a RayCluster's record."""
    return f"{cluster_key}|{namespace}|{name}"


def ray_pod_due(ctx: Context, cluster_key: str, pod_obj: Obj) -> float | None:
    """When a Ray pod should start: its RayCluster's modelled readiness (None: not a Ray pod,
    or that time has passed)."""
    metadata = pod_obj["metadata"]
    name = (metadata.get("labels") or {}).get("ray.io/cluster")
    if not name:
        return None
    record = ctx.rt.store.get(RAYCLUSTERS, record_key(cluster_key, metadata["namespace"], name))
    due = None if record is None else float(record["dueAt"])
    return due if due is not None and due > ctx.now else None


class RayClusters:
    """The operator's work in one cluster."""

    def __init__(self, ctx: Context, cluster_key: str, operator: Operator) -> None:
        self.ctx = ctx
        self.cluster_key = cluster_key
        self.api = ClusterApi(ctx.rt, cluster_key, manager="kuberay-operator")
        account = f"system:serviceaccount:{operator.namespace}:{operator.service_account}"
        self.operator = ClusterApi(
            ctx.rt, cluster_key, manager="kuberay-operator", user=user_info(account)
        )

    def _record(self, raycluster: Obj) -> Obj:
        metadata = raycluster["metadata"]
        key = record_key(self.cluster_key, metadata["namespace"], metadata["name"])
        record = self.ctx.rt.store.get(RAYCLUSTERS, key)
        if record is None or record.get("uid") != metadata.get("uid"):
            with latency.subject(key):  # journaled per RayCluster, not per cluster
                due = self.ctx.now + timing.delay(self.ctx.rt, timing.RAYCLUSTER_READY)
            record = {"uid": metadata.get("uid"), "dueAt": due, "retryAt": 0.0, "failure": None}
        return record

    def _scale(self, raycluster: Obj, by_group: dict[str, list[Obj]], record: Obj) -> None:
        failure = None
        wanted = groups(raycluster)
        for group, (template, count) in wanted.items():
            have = by_group.setdefault(group, [])
            while len(have) < count and failure is None:
                try:
                    have.append(self.operator.create(pod(raycluster, group, template)))
                except StatusError as exc:
                    failure = {"group": group, "message": exc.message}
            for extra in sorted(have, key=lambda p: p["metadata"]["name"])[count:]:
                self.operator.delete(
                    "v1", "Pod", extra["metadata"]["name"], extra["metadata"]["namespace"]
                )
                have.remove(extra)
        for group in [g for g in by_group if g not in wanted]:
            for extra in by_group.pop(group):
                self.operator.delete(
                    "v1", "Pod", extra["metadata"]["name"], extra["metadata"]["namespace"]
                )
        record["failure"] = failure
        if failure is not None:
            record["retryAt"] = self.ctx.now + timing.retry_after(self.ctx.rt, self.ctx.settings)

    def reconcile(self, raycluster: Obj) -> None:
        """Service, pods and status of one RayCluster."""
        metadata = raycluster["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        key = record_key(self.cluster_key, namespace, name)
        before = json.dumps(self.ctx.rt.store.get(RAYCLUSTERS, key), sort_keys=True)
        record = self._record(raycluster)
        service = self.api.get("v1", "Service", head_service_name(name), namespace)
        if service is None and not (raycluster.get("spec") or {}).get("suspend"):
            with contextlib.suppress(StatusError):
                service = self.operator.create(head_service(raycluster))
        by_group: dict[str, list[Obj]] = {}
        for found in self.api.list("v1", "Pod", namespace, label_selector=f"ray.io/cluster={name}"):
            if not found["metadata"].get("deletionTimestamp"):
                group = (found["metadata"].get("labels") or {}).get("ray.io/group", "")
                by_group.setdefault(group, []).append(found)
        if self.ctx.now >= record["retryAt"]:
            self._scale(raycluster, by_group, record)
        scaling = frozenset(
            p["metadata"]["name"]
            for found in by_group.values()
            for p in found
            if awaits_scale_up(self.ctx.rt, self.cluster_key, p)
        )
        status = raycluster_status(
            raycluster, by_group, service, record, self.ctx.stamp, scaling=scaling
        )
        if json.dumps(record, sort_keys=True) != before:
            self.ctx.rt.store.put(RAYCLUSTERS, key, record)
        with contextlib.suppress(StatusError, KeyError):
            write_status(self.api, raycluster, status)


def collect_garbage(ctx: Context, cluster_key: str, live: set[str]) -> None:
    """Delete pods and services whose owning RayCluster (by uid) no longer exists."""
    api = ClusterApi(ctx.rt, cluster_key, manager="kube-controller-manager")
    for kind in ("Pod", "Service"):
        for obj in api.list("v1", kind, label_selector="ray.io/cluster"):
            owners = [
                o
                for o in obj["metadata"].get("ownerReferences") or []
                if o.get("kind") == "RayCluster"
            ]
            if owners and not any(o.get("uid") in live for o in owners):
                with contextlib.suppress(StatusError):
                    api.delete("v1", kind, obj["metadata"]["name"], obj["metadata"]["namespace"])


def _collect_when_gone(ctx: Context, cluster_key: str, live: set[str]) -> None:
    """Garbage collection once a RayCluster seen before is gone (or nothing was recorded),
    as Kubernetes' collector acts on the owner's deletion: listing every pod and service of
    the cluster on each pass was a tenth of the controllers' time at 100 teams."""
    seen = ctx.rt.store.get(LIVE, cluster_key)
    before = None if seen is None else set(seen["uids"])
    if before is None or before - live:
        collect_garbage(ctx, cluster_key, live)
    if before != live:
        ctx.rt.store.put(LIVE, cluster_key, {"uids": sorted(live)})


def reconcile_rayclusters(ctx: Context, cluster_key: str, operator: Operator | None) -> None:
    """Every RayCluster of the cluster; garbage collection of their pods and services."""
    api = ClusterApi(ctx.rt, cluster_key, manager="kuberay-operator")
    try:
        rayclusters = api.list(RAY_API, "RayCluster")
    except KeyError:
        rayclusters = []
    live = {
        str(r["metadata"].get("uid"))
        for r in rayclusters
        if not r["metadata"].get("deletionTimestamp")
    }
    _collect_when_gone(ctx, cluster_key, live)
    existing = {
        record_key(cluster_key, r["metadata"]["namespace"], r["metadata"]["name"])
        for r in rayclusters
    }
    for key, _ in ctx.rt.store.items(RAYCLUSTERS, f"{cluster_key}|"):
        if key not in existing:
            ctx.rt.store.delete(RAYCLUSTERS, key)
    if operator is None:
        return
    work = RayClusters(ctx, cluster_key, operator)
    for raycluster in rayclusters:
        metadata = raycluster["metadata"]
        if metadata.get("deletionTimestamp") or not operator.watches(metadata["namespace"]):
            continue
        work.reconcile({"apiVersion": RAY_API, "kind": "RayCluster", **raycluster})
