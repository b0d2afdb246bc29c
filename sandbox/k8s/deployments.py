"""The Deployment controller: a ReplicaSet per pod template (`<name>-<pod-template-hash>`,
revision annotations, owner reference), the new one scaled to `spec.replicas` and the old ones
to 0 (a rollout finishes at once; pods still take their modelled time to start), old sets kept
up to `revisionHistoryLimit`, and status rolled up from the sets with Kubernetes' conditions.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from sandbox.k8s import events
from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.errors import StatusError
from sandbox.k8s.kinds import builtin, storage_key
from sandbox.k8s.owned import (
    controller_options,
    fresh,
    once,
    owned_by,
    owner_reference,
    safe_hash,
    stamp_conditions,
    write_status,
)
from sandbox.k8s.replicasets import REPLICASETS
from sandbox.k8s.verbs import create, delete, update

Obj = dict[str, Any]
DEPLOYMENTS = storage_key(builtin("Deployment"))
CONTROLLER = "deployment-controller"
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX = "deployment.kubernetes.io/max-replicas"


def revision(obj: Obj) -> int:
    """The revision annotation (0 when absent)."""
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def _rolling(deployment: Obj, replicas: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers of pods."""
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, replicas
    rolling = strategy.get("rollingUpdate") or {}

    def scaled(value: Any, round_up: bool) -> int:
        text = str("25%" if value is None else value)
        if text.endswith("%"):
            exact = replicas * float(text[:-1]) / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        return int(text)

    surge = scaled(rolling.get("maxSurge"), True)
    unavailable = scaled(rolling.get("maxUnavailable"), False)
    if not surge and not unavailable:
        unavailable = 1
    return surge, unavailable


def _annotations(deployment: Obj, replicas: int, rev: int) -> dict[str, str]:
    surge, _ = _rolling(deployment, replicas)
    kept = {
        k: v
        for k, v in (deployment["metadata"].get("annotations") or {}).items()
        if k != "kubectl.kubernetes.io/last-applied-configuration"
        and not k.startswith("deployment.kubernetes.io/")
    }
    return {**kept, REVISION: str(rev), DESIRED: str(replicas), MAX: str(replicas + surge)}


def _new_replicaset(deployment: Obj, template_hash: str, replicas: int, rev: int) -> Obj:
    spec = deployment.get("spec") or {}
    template = copy.deepcopy(spec.get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = template_hash
    selector = copy.deepcopy(spec.get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = template_hash
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{deployment['metadata']['name']}-{template_hash}",
            "namespace": deployment["metadata"]["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": _annotations(deployment, replicas, rev),
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    }
    if spec.get("minReadySeconds"):
        body["spec"]["minReadySeconds"] = spec["minReadySeconds"]
    return body


def _scale(cluster: Cluster, deployment: Obj, rs: Obj, replicas: int, rev: int) -> None:
    """Set a set's replicas (and revision annotations), with the ScalingReplicaSet event."""
    before = int(rs["spec"].get("replicas", 1))
    body = copy.deepcopy(rs)
    body["spec"]["replicas"] = replicas
    annotations = body["metadata"].setdefault("annotations", {})
    if rev and revision(rs) != rev:
        old = str(revision(rs))
        history = [h for h in str(annotations.get(HISTORY, "")).split(",") if h]
        annotations[HISTORY] = ",".join([*history, old])
        annotations[REVISION] = str(rev)
    if replicas:
        surge, _ = _rolling(deployment, replicas)
        annotations.update({DESIRED: str(replicas), MAX: str(replicas + surge)})
    if body == rs:
        return
    ref = Ref(builtin("ReplicaSet"), rs["metadata"]["namespace"], rs["metadata"]["name"])
    update(cluster, ref, body, controller_options(CONTROLLER))
    if before != replicas:
        direction = "up" if replicas > before else "down"
        message = (
            f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}"
        )
        events.record(
            cluster, deployment, events.NORMAL, "ScalingReplicaSet", message, component=CONTROLLER
        )


def _prune_history(cluster: Cluster, deployment: Obj, old: list[Obj]) -> None:
    limit = int((deployment.get("spec") or {}).get("revisionHistoryLimit", 10))
    idle = [
        rs
        for rs in old
        if not rs["spec"].get("replicas") and not (rs.get("status") or {}).get("replicas")
    ]
    for rs in sorted(idle, key=revision)[: max(len(idle) - limit, 0)]:
        ref = Ref(builtin("ReplicaSet"), rs["metadata"]["namespace"], rs["metadata"]["name"])
        try:
            delete(cluster, ref, controller_options(CONTROLLER))
        except StatusError:
            continue


def _roll_out(cluster: Cluster, deployment: Obj) -> Obj | None:
    """Make the new ReplicaSet, scale the old ones down; the new set."""
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    template_hash = safe_hash(
        [spec.get("template"), (deployment.get("status") or {}).get("collisionCount")]
    )
    sets = owned_by(cluster, REPLICASETS, deployment)
    new = next(
        (
            rs
            for rs in sets
            if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == template_hash
        ),
        None,
    )
    old = [rs for rs in sets if rs is not new]
    top = max((revision(rs) for rs in sets), default=0)
    paused = bool(spec.get("paused"))
    if new is None and not paused:
        body = _new_replicaset(deployment, template_hash, replicas, top + 1)
        try:
            new = create(
                cluster,
                Ref(builtin("ReplicaSet"), body["metadata"]["namespace"]),
                body,
                controller_options(CONTROLLER),
            ).obj
        except StatusError as exc:
            if exc.code != 409:
                message = (
                    f'Failed to create new replica set "{body["metadata"]["name"]}": {exc.message}'
                )
                events.record(
                    cluster,
                    deployment,
                    events.WARNING,
                    "FailedCreate",
                    message,
                    component=CONTROLLER,
                )
            return None
        if replicas:
            message = f"Scaled up replica set {new['metadata']['name']} from 0 to {replicas}"
            events.record(
                cluster,
                deployment,
                events.NORMAL,
                "ScalingReplicaSet",
                message,
                component=CONTROLLER,
            )
    elif new is not None:
        wanted_rev = top + 1 if revision(new) < top else revision(new)
        _scale(cluster, deployment, new, replicas, wanted_rev if not paused else 0)
    if not paused:
        for rs in old:
            if rs["spec"].get("replicas"):
                _scale(cluster, deployment, rs, 0, 0)
        _prune_history(cluster, deployment, old)
    return new


def _mark_revision(cluster: Cluster, deployment: Obj, new: Obj | None) -> Obj:
    """The Deployment's own revision annotation follows its new ReplicaSet."""
    if new is None:
        return deployment
    latest = fresh(cluster, REPLICASETS, new) or new
    rev = str(revision(latest))
    annotations = deployment["metadata"].get("annotations") or {}
    if annotations.get(REVISION) == rev:
        return deployment
    body = copy.deepcopy(deployment)
    body["metadata"].setdefault("annotations", {})[REVISION] = rev
    ref = Ref(
        builtin("Deployment"), deployment["metadata"]["namespace"], deployment["metadata"]["name"]
    )
    return update(cluster, ref, body, controller_options(CONTROLLER)).obj


def deployment_status(deployment: Obj, sets: list[Obj], new_name: str, now: str) -> Obj:
    """status rolled up from the Deployment's ReplicaSets."""
    spec = deployment.get("spec") or {}
    wanted = int(spec.get("replicas", 1))
    _, max_unavailable = _rolling(deployment, wanted)

    def total(key: str, only: list[Obj] | None = None) -> int:
        return sum(
            int((rs.get("status") or {}).get(key) or 0)
            for rs in (only if only is not None else sets)
        )

    new = [rs for rs in sets if rs["metadata"]["name"] == new_name]
    replicas, available = total("replicas"), total("availableReplicas")
    updated = total("replicas", new)
    counts = {
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": total("readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(
            sum(int(rs["spec"].get("replicas", 1)) for rs in sets) - available, 0
        ),
    }
    status: Obj = {"observedGeneration": deployment["metadata"].get("generation", 1)}
    status.update({k: v for k, v in counts.items() if v})
    if (deployment.get("status") or {}).get("collisionCount") is not None:
        status["collisionCount"] = deployment["status"]["collisionCount"]
    if available >= wanted - max_unavailable:
        available_condition = (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    else:
        available_condition = (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    done = updated == wanted and replicas == wanted and available == wanted and bool(new)
    old_conditions = (deployment.get("status") or {}).get("conditions") or []
    was: Obj = next((c for c in old_conditions if c.get("type") == "Progressing"), {})
    if done:
        progressing = (
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{new_name}" has successfully progressed.',
        )
    elif not was:
        progressing = ("True", "NewReplicaSetCreated", f'Created new replica set "{new_name}"')
    else:
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{new_name}" is progressing.')
    wanted_conditions = [
        {
            "type": "Available",
            "status": available_condition[0],
            "lastUpdateTime": now,
            "reason": available_condition[1],
            "message": available_condition[2],
        },
        {
            "type": "Progressing",
            "status": progressing[0],
            "lastUpdateTime": now,
            "reason": progressing[1],
            "message": progressing[2],
        },
    ]
    for rs in new:
        failure = next(
            (
                c
                for c in (rs.get("status") or {}).get("conditions") or []
                if c.get("type") == "ReplicaFailure" and c.get("status") == "True"
            ),
            None,
        )
        if failure is not None:
            wanted_conditions.append(
                {
                    "type": "ReplicaFailure",
                    "status": "True",
                    "lastUpdateTime": now,
                    "reason": "FailedCreate",
                    "message": failure.get("message", ""),
                }
            )
    status["conditions"] = stamp_conditions(old_conditions, wanted_conditions, now)
    return status


def sync_deployment_status(cluster: Cluster, deployment: Obj) -> None:
    """Roll the sets' status up into the Deployment's."""
    found = fresh(cluster, DEPLOYMENTS, deployment)
    if found is None:
        return
    sets = owned_by(cluster, REPLICASETS, found)
    current = (found["metadata"].get("annotations") or {}).get(REVISION, "")
    new = next((rs for rs in sets if str(revision(rs)) == current), None)
    name = new["metadata"]["name"] if new else ""
    write_status(cluster, found, deployment_status(found, sets, name, cluster.now()), CONTROLLER)


def sync_deployment(cluster: Cluster, deployment: Obj) -> None:
    """Roll the Deployment out to its current template, then report status."""

    def sync() -> None:
        found = fresh(cluster, DEPLOYMENTS, deployment)
        if found is None:
            return
        new = _roll_out(cluster, found)
        latest = fresh(cluster, DEPLOYMENTS, found)
        if latest is not None:
            _mark_revision(cluster, latest, new)
            sync_deployment_status(cluster, latest)

    once(f"{cluster.key}|deploy|{deployment['metadata']['uid']}", sync)
