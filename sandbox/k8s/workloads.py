"""Routes stored changes to the workload controllers, as their informers would: a Deployment's
or ReplicaSet's or Job's new spec, a pod's phase or readiness changing (its owner counts
again), a set's status changing (its Deployment rolls it up), and an owner deleted (the garbage
collector deletes what it controlled)."""

from __future__ import annotations

import sys
import traceback
from typing import Any

from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.deployments import DEPLOYMENTS, sync_deployment, sync_deployment_status
from sandbox.k8s.errors import StatusError
from sandbox.k8s.jobs import JOBS, sync_job
from sandbox.k8s.kinds import builtin
from sandbox.k8s.owned import PODS, cluster_lock, controller_of, controller_options, owned_by
from sandbox.k8s.replicasets import REPLICASETS, is_ready, sync_replicaset
from sandbox.k8s.verbs import delete
from sandbox.k8s.watch import Event

Obj = dict[str, Any]
WORKLOAD_STORAGES = frozenset({DEPLOYMENTS, REPLICASETS, JOBS, PODS})
_OWNERS = {"ReplicaSet": REPLICASETS, "Deployment": DEPLOYMENTS, "Job": JOBS}


def _spec_changed(event: Event) -> bool:
    before = ((event.old or {}).get("metadata") or {}).get("generation")
    return event.type == "ADDED" or before != event.obj["metadata"].get("generation")


def _pod_state(pod: Obj | None) -> tuple[Any, ...]:
    if pod is None:
        return ()
    status = pod.get("status") or {}
    return (status.get("phase"), is_ready(pod), bool(pod["metadata"].get("deletionTimestamp")))


def _owner(cluster: Cluster, obj: Obj, kind: str) -> Obj | None:
    ref = controller_of(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    namespace = obj["metadata"].get("namespace", "")
    found = cluster.objects.get(_OWNERS[kind], namespace, str(ref.get("name")))
    if found is None or found["metadata"].get("uid") != ref.get("uid"):
        return None
    return found


def collect_dependents(cluster: Cluster, owner: Obj) -> None:
    """Delete the ReplicaSets and pods a deleted owner controlled."""
    for storage, kind in ((REPLICASETS, "ReplicaSet"), (PODS, "Pod")):
        for dependent in owned_by(cluster, storage, owner):
            metadata = dependent["metadata"]
            ref = Ref(builtin(kind), metadata["namespace"], metadata["name"])
            try:
                delete(cluster, ref, controller_options("generic-garbage-collector"))
            except StatusError:
                continue


def _react(cluster: Cluster, event: Event) -> None:
    obj, storage = event.obj, event.storage
    if event.type == "DELETED" and storage != PODS:
        collect_dependents(cluster, obj)
    if storage == DEPLOYMENTS:
        if event.type != "DELETED" and _spec_changed(event):
            sync_deployment(cluster, obj)
    elif storage == JOBS:
        if event.type != "DELETED" and _spec_changed(event):
            sync_job(cluster, obj)
    elif storage == REPLICASETS:
        deployment = _owner(cluster, obj, "Deployment")
        if event.type == "DELETED":
            if deployment is not None:
                sync_deployment(cluster, deployment)
            return
        if _spec_changed(event):
            sync_replicaset(cluster, obj)
        elif deployment is not None and (event.old or {}).get("status") != obj.get("status"):
            sync_deployment_status(cluster, deployment)
    elif event.type in ("ADDED", "DELETED") or _pod_state(event.old) != _pod_state(obj):
        replicaset = _owner(cluster, obj, "ReplicaSet")
        if replicaset is not None:
            sync_replicaset(cluster, replicaset)
        job = _owner(cluster, obj, "Job")
        if job is not None:
            sync_job(cluster, job)


def react_workloads(cluster: Cluster, event: Event) -> None:
    """Run the workload controllers over one stored change."""
    with cluster_lock(cluster):
        try:
            _react(cluster, event)
        except StatusError:
            # a controller's write refused: it tries again at the object's next change (the
            # writer whose change woke it must not see the controller's failure)
            traceback.print_exc(file=sys.stderr)
