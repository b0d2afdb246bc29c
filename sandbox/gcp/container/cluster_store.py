"""Stored GKE clusters (node pools embedded, as GKE returns them) and the effects that change
them when a Container operation completes.

Effects are declarative (`container.apply` with a `change`, `container.fail`), so operations
started before a restart complete after it. A cluster reaching RUNNING or being deleted is told
to `cluster_events` listeners.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from sandbox import latency
from sandbox.api import Call
from sandbox.effects import effect, make_effect
from sandbox.errors import ApiError, not_found
from sandbox.gcp.container import cluster_events
from sandbox.gcp.container.defaults import node_count
from sandbox.gcp.container.naming import JSON, cluster_path, compute_etag
from sandbox.gcp.container.operations import (
    api_error,
    cancel_requested,
    location_of,
    planned_failure,
    start_operation,
)
from sandbox.gcp.container.updates import (
    apply_cluster_update,
    set_autoscaling,
    set_fields,
    set_labels,
    set_management,
    set_size,
    set_status,
    update_node_pool,
)
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.resourcemanager.projects import find, number_of
from sandbox.runtime import Runtime

CLUSTERS = "container.clusters"  # key: "<project id>/<location>/<name>"
AUTO_RECONCILE = "container.clusters.autoReconcile"
UP = ("RUNNING", "RECONCILING")

latency.declare({AUTO_RECONCILE: (600.0, 1100.0)})


def cluster_key(project_id: str, location: str, name: str) -> str:
    """The store key of a cluster."""
    return f"{project_id}/{location}/{name}"


def not_found_error(path: str) -> ApiError:
    """404 as GKE words it."""
    return not_found(f"Not found: {path}.", with_errors_list=True)


def require_cluster(call: Call, name: str) -> tuple[str, str, str, JSON]:
    """(project ID, location, key, cluster) for `projects/P/locations/L/clusters/C[/…]`."""
    project_id, location = location_of(call, name)
    cluster_name = name.split("/")[5]
    key = cluster_key(project_id, location, cluster_name)
    cluster = call.rt.store.get(CLUSTERS, key)
    if cluster is None:
        path = f"projects/{project_id}/locations/{location}/clusters/{cluster_name}"
        raise not_found_error(path)
    return project_id, location, key, cluster


def find_pool(cluster: JSON, pool_name: str) -> JSON:
    """The embedded node pool, or 404."""
    for pool in cluster.get("nodePools", []):
        if pool["name"] == pool_name:
            return dict(pool)
    project, location, name = cluster_path(cluster)
    path = f"projects/{project}/locations/{location}/clusters/{name}"
    raise not_found_error(f"{path}/nodePools/{pool_name}")


def find_cluster(rt: Runtime, project: str, location: str, name: str) -> JSON | None:
    """A stored cluster by project (ID or number), location and name, or None."""
    doc = find(rt, project)
    if doc is None:
        return None
    return rt.store.get(CLUSTERS, cluster_key(str(doc["projectId"]), location, name))


def refresh(cluster: JSON) -> JSON:
    """Recompute what GKE derives from the node pools, and the etag."""
    pools = cluster.get("nodePools", [])
    cluster["instanceGroupUrls"] = [url for p in pools for url in p.get("instanceGroupUrls", [])]
    cluster["currentNodeCount"] = node_count(cluster)
    if pools:
        cluster["nodeConfig"] = copy.deepcopy(pools[0]["config"])
    cluster["etag"] = compute_etag(cluster)
    return cluster


def with_pool_status(cluster: JSON, pool_name: str, status: str) -> JSON:
    """The cluster with one node pool's status set."""
    return set_status(cluster, status, pool_name)


def event_for(rt: Runtime, cluster: JSON) -> cluster_events.ClusterEvent:
    """The listener event of a stored cluster."""
    project_id, location, name = cluster_path(cluster)
    project = find(rt, project_id)
    number = number_of(project) if project is not None else ""
    return cluster_events.ClusterEvent(project_id, number, location, name, copy.deepcopy(cluster))


def running_clusters(rt: Runtime) -> list[cluster_events.ClusterEvent]:
    """Every stored cluster whose control plane is up (RUNNING or RECONCILING)."""
    return [event_for(rt, c) for c in rt.store.values(CLUSTERS) if c.get("status") in UP]


def apply_effect(key: str, change: dict[str, Any]) -> dict[str, Any]:
    """The effect applying `change` (a `kind` plus arguments) to the cluster at `key`."""
    return make_effect("container.apply", key=key, change=change)


def fail_effect(key: str, status: str, pool: str | None = None) -> dict[str, Any]:
    """The effect of an operation ending in error: the cluster (or pool) gets `status`."""
    return make_effect("container.fail", key=key, status=status, pool=pool)


def _changed(cluster: JSON, change: dict[str, Any]) -> JSON:
    kind = change["kind"]
    pool = str(change.get("pool", ""))
    if kind == "create":
        return set_status(cluster, "RUNNING")
    if kind == "settle":
        return set_status(cluster, "RUNNING")
    if kind == "update":
        update = {k: v for k, v in change["update"].items() if k != "etag"}
        return set_status(apply_cluster_update(cluster, update), "RUNNING")
    if kind == "fields":
        return set_fields(cluster, change["fields"])
    if kind == "labels":
        return set_labels(cluster, change["labels"], cluster.get("labelFingerprint", ""))
    if kind == "poolCreate":
        return refresh(with_pool_status(cluster, pool, "RUNNING"))
    if kind == "poolDelete":
        cluster = copy.deepcopy(cluster)
        cluster["nodePools"] = [p for p in cluster.get("nodePools", []) if p["name"] != pool]
        return refresh(cluster)
    if kind == "poolUpdate":
        request = {k: v for k, v in change["request"].items() if k != "etag"}
        return refresh(with_pool_status(update_node_pool(cluster, pool, request), pool, "RUNNING"))
    if kind == "autoscaling":
        return set_autoscaling(cluster, pool, change["autoscaling"])
    if kind == "size":
        return with_pool_status(set_size(cluster, pool, int(change["size"])), pool, "RUNNING")
    if kind == "management":
        return set_management(cluster, pool, change["management"])
    raise ValueError(f"unknown cluster change {kind!r}")


def _restore(cluster: JSON, pool: str | None) -> JSON:
    """Statuses back to RUNNING after an operation that changed nothing."""
    if pool is not None and any(p["name"] == pool for p in cluster.get("nodePools", [])):
        return with_pool_status(cluster, pool, "RUNNING")
    return set_status(cluster, "RUNNING")


@effect("container.apply")
def _apply(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    key, change = args["key"], args["change"]
    cluster = rt.store.get(CLUSTERS, key)
    if cluster is None:
        return None
    pool = change.get("pool")
    if cancel_requested(rt, args.get("op", "")):
        rt.store.put(CLUSTERS, key, _restore(cluster, pool))
        return None
    if change["kind"] == "delete":
        rt.store.delete(CLUSTERS, key)
        cluster_events.fire_deleted(rt, event_for(rt, cluster))
        return None
    try:
        updated = _changed(cluster, change)
    except ModelError as exc:
        rt.store.put(CLUSTERS, key, _restore(cluster, pool))
        raise api_error(exc) from None
    rt.store.put(CLUSTERS, key, updated)
    if change["kind"] == "create":
        cluster_events.fire_running(rt, event_for(rt, updated))
        _maybe_reconcile(rt, key, updated)
    return None


@effect("container.fail")
def _fail(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    cluster = rt.store.get(CLUSTERS, args["key"])
    if cluster is None:
        return None
    rpc_status, message = planned_failure(rt, args.get("op", ""))
    pool_name, status = args.get("pool"), args["status"]
    condition = {
        "code": "GCE_STOCKOUT" if rpc_status == "RESOURCE_EXHAUSTED" else "UNKNOWN",
        "message": message,
        "canonicalCode": rpc_status,
    }
    if pool_name is not None:
        cluster = copy.deepcopy(cluster)
        for pool in cluster.get("nodePools", []):
            if pool["name"] == pool_name:
                pool["status"] = status
                if status == "ERROR":
                    pool.update(statusMessage=message, conditions=[condition])
                pool["etag"] = compute_etag(pool)
        rt.store.put(CLUSTERS, args["key"], refresh(cluster))
        return None
    updated = set_status(cluster, status)
    if status == "ERROR":
        updated.update(statusMessage=message, conditions=[condition])
        for pool in updated.get("nodePools", []):
            if pool.get("status") in ("PROVISIONING", "STOPPING"):
                pool["status"] = "ERROR"
        refresh(updated)
    rt.store.put(CLUSTERS, args["key"], updated)
    return None


def _maybe_reconcile(rt: Runtime, key: str, cluster: JSON) -> None:
    """In realistic mode, a new cluster sometimes upgrades its control plane by itself
    (RECONCILING, an UPGRADE_MASTER operation blocking the others), as GKE does."""
    if not rt.latency.realistic:
        return
    draw = random.Random(f"{rt.latency.seed}:{cluster['id']}").random()
    if draw >= rt.latency.auto_upgrade_chance:
        return
    project_id, location, name = cluster_path(cluster)
    rt.store.put(CLUSTERS, key, set_status(cluster, "RECONCILING"))
    # journalled under the cluster, whatever request or tick completed its create
    with latency.subject(f"projects/{project_id}/locations/{location}/clusters/{name}"):
        start_operation(
            rt,
            project_id=project_id,
            location=location,
            operation_type="UPGRADE_MASTER",
            target_link=cluster["selfLink"],
            method=AUTO_RECONCILE,
            effect=apply_effect(key, {"kind": "settle"}),
            failure_effect=fail_effect(key, "RUNNING"),
        )
