"""The ReplicaSet controller: keeps `spec.replicas` pods from the template, created through the
API (so admission applies: Policy Controller, quotas), and reports them in status.

A refused create leaves the set short: a Warning `FailedCreate` event ("Error creating: …"), the
`ReplicaFailure` condition, and a retry with backoff as the controller's work queue does.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from sandbox.k8s import events
from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.errors import StatusError
from sandbox.k8s.kinds import builtin, storage_key
from sandbox.k8s.owned import (
    PODS,
    cluster_lock,
    controller_options,
    fresh,
    once,
    owned_by,
    owner_reference,
    stamp_conditions,
    suffix,
    write_status,
)
from sandbox.k8s.verbs import create, delete

Obj = dict[str, Any]
REPLICASETS = storage_key(builtin("ReplicaSet"))
CONTROLLER = "replicaset-controller"
TERMINAL = ("Succeeded", "Failed")
MAX_BACKOFF = 60.0
_FAILURES: dict[str, int] = {}  # per ReplicaSet uid: creates refused in a row
_FAILURES_LOCK = threading.Lock()


def is_ready(pod: Obj) -> bool:
    """Running with the Ready condition True."""
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return status.get("phase") == "Running" and ready


def pod_from_template(owner: Obj, template: Obj, prefix: str, labels: dict[str, str]) -> Obj:
    """A new pod of owner's template, named `<prefix>-<5 chars>` as generateName does."""
    metadata = template.get("metadata") or {}
    pod: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{prefix}-",
            "name": f"{prefix}-{suffix()}",
            "namespace": owner["metadata"]["namespace"],
            "labels": {**(metadata.get("labels") or {}), **labels},
            "ownerReferences": [owner_reference(owner)],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    if metadata.get("annotations"):
        pod["metadata"]["annotations"] = dict(metadata["annotations"])
    return pod


def create_pod(cluster: Cluster, owner: Obj, pod: Obj, controller: str) -> str:
    """Create a pod for owner, with the controller's events; the refusal's message, or ""."""
    try:
        made = create(
            cluster,
            Ref(builtin("Pod"), pod["metadata"]["namespace"]),
            pod,
            controller_options(controller),
        ).obj
    except StatusError as exc:
        events.record(
            cluster,
            owner,
            events.WARNING,
            "FailedCreate",
            f"Error creating: {exc.message}",
            component=controller,
        )
        return exc.message or exc.reason
    events.record(
        cluster,
        owner,
        events.NORMAL,
        "SuccessfulCreate",
        f"Created pod: {made['metadata']['name']}",
        component=controller,
    )
    return ""


def _doomed_first(pod: Obj) -> tuple[int, int, str]:
    return (
        0 if not pod["spec"].get("nodeName") else 1,
        1 if is_ready(pod) else 0,
        str(pod["metadata"].get("creationTimestamp", "")),
    )


def _retry(cluster: Cluster, rs: Obj) -> None:
    uid = rs["metadata"]["uid"]
    with _FAILURES_LOCK:
        failures = _FAILURES[uid] = _FAILURES.get(uid, 0) + 1
    delay = min(MAX_BACKOFF, 0.5 * 2 ** (failures - 1))

    def again() -> None:
        with cluster_lock(cluster):
            found = fresh(cluster, REPLICASETS, rs)
            if found is not None:
                sync_replicaset(cluster, found)

    cluster.backend.later(again, delay)


def _manage(cluster: Cluster, rs: Obj, pods: list[Obj]) -> str:
    wanted = int((rs.get("spec") or {}).get("replicas", 1))
    active = [p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL]
    template = (rs.get("spec") or {}).get("template") or {}
    failure = ""
    for _ in range(wanted - len(active)):
        pod = pod_from_template(rs, template, rs["metadata"]["name"], {})
        failure = create_pod(cluster, rs, pod, CONTROLLER)
        if failure:
            break
    for doomed in sorted(active, key=_doomed_first)[: max(len(active) - wanted, 0)]:
        name = doomed["metadata"]["name"]
        try:
            delete(
                cluster,
                Ref(builtin("Pod"), doomed["metadata"]["namespace"], name),
                controller_options(CONTROLLER),
            )
        except StatusError:
            continue
        events.record(
            cluster,
            rs,
            events.NORMAL,
            "SuccessfulDelete",
            f"Deleted pod: {name}",
            component=CONTROLLER,
        )
    return failure


def replicaset_status(rs: Obj, pods: list[Obj], failure: str, now: str) -> Obj:
    """status as the controller reports it (zero counts left out, as Kubernetes omits them)."""
    active = [p for p in pods if (p.get("status") or {}).get("phase") not in TERMINAL]
    ready = sum(1 for p in active if is_ready(p))
    status: Obj = {
        "replicas": len(active),
        "fullyLabeledReplicas": len(active),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": rs["metadata"].get("generation", 1),
    }
    status = {k: v for k, v in status.items() if v or k == "replicas"}
    old = (rs.get("status") or {}).get("conditions")
    if failure:
        condition = {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": failure,
        }
        status["conditions"] = stamp_conditions(old, [condition], now)
    return status


def sync_replicaset(cluster: Cluster, rs: Obj) -> None:
    """Create or delete pods towards spec.replicas and report status."""

    def sync() -> None:
        found = fresh(cluster, REPLICASETS, rs)
        if found is None:
            return
        failure = _manage(cluster, found, owned_by(cluster, PODS, found))
        uid = found["metadata"]["uid"]
        if failure:
            _retry(cluster, found)
        else:
            with _FAILURES_LOCK:
                _FAILURES.pop(uid, None)
        latest = fresh(cluster, REPLICASETS, found)
        if latest is not None:
            pods = owned_by(cluster, PODS, latest)
            status = replicaset_status(latest, pods, failure, cluster.now())
            write_status(cluster, latest, status, CONTROLLER)

    once(f"{cluster.key}|rs|{rs['metadata']['uid']}", sync)
