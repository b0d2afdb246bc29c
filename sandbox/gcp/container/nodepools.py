"""Container v1 (GKE) node pools: create, get, list, update, setAutoscaling, setSize,
setManagement, delete. Pools live inside their stored cluster; each mutation is an operation on
`…/clusters/C/nodePools/N` (one per pool at a time, never during a cluster-level one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.clock import rfc3339
from sandbox.errors import failed_precondition
from sandbox.gcp.container.account_checks import check_node_service_account
from sandbox.gcp.container.cluster_store import (
    CLUSTERS,
    apply_effect,
    fail_effect,
    find_pool,
    refresh,
    require_cluster,
    with_pool_status,
)
from sandbox.gcp.container.naming import JSON
from sandbox.gcp.container.network_checks import (
    check_pod_range,
    check_reservation,
    pool_subnet_ranges,
)
from sandbox.gcp.container.operation_rules import OPERATION_TYPE_BY_METHOD
from sandbox.gcp.container.operations import (
    HOST,
    PROTO,
    api_error,
    render,
    require_idle,
    require_paid,
    start_operation,
)
from sandbox.gcp.container.updates import (
    set_autoscaling,
    set_management,
    set_size,
    update_node_pool,
)
from sandbox.gcp.container.validation import ModelError, new_node_pool, validate_node_pool
from sandbox.gcp.resourcemanager.projects import usable

HANDLERS = Handlers("container.v1", proto=PROTO)
_M = "container.projects.locations.clusters.nodePools."
CREATE_GPU_NODES = "container.nodePools.create.gpuNodes"
UPGRADE_PER_NODE = "container.nodePools.upgrade.perNode"

latency.declare(
    {
        _M + "create": (90.0, 180.0),
        CREATE_GPU_NODES: (360.0, 720.0),
        _M + "delete": (180.0, 360.0),
        _M + "update": (30.0, 120.0),
        UPGRADE_PER_NODE: (240.0, 400.0),
        _M + "setAutoscaling": (30.0, 120.0),
        _M + "setManagement": (30.0, 120.0),
        _M + "setSize": (90.0, 180.0),
    }
)


def _ready(cluster: JSON) -> None:
    if cluster.get("status") != "RUNNING":
        raise failed_precondition(
            f"Cluster {cluster['name']} is not ready: its status is {cluster.get('status')}."
        )


@HANDLERS(_M + "create")
def create(call: Call) -> dict[str, Any]:
    rt = call.rt
    body: JSON = call.require(call.body.get("nodePool"), "node_pool")
    with rt.store.transaction():
        project_id, location, key, cluster = require_cluster(call, call.params["parent"])
        require_paid(rt, usable(rt, project_id))
        require_idle(rt, project_id, location, cluster["name"], str(body.get("name", "")))
        _ready(cluster)
        try:
            validate_node_pool(body, cluster)
        except ModelError as exc:
            raise api_error(exc) from None
        check_node_service_account(rt, (body.get("config") or {}).get("serviceAccount"))
        ranges, network_link, subnet = pool_subnet_ranges(rt, cluster)
        check_pod_range(body, ranges, network_link, subnet)
        pool = new_node_pool(cluster, body, now=rfc3339(rt.now()), host=HOST)
        check_reservation(rt, project_id, pool, pool["locations"])
        cluster["nodePools"] = [*cluster.get("nodePools", []), pool]
        rt.store.put(CLUSTERS, key, refresh(cluster))
        gpu_nodes = pool["config"].get("accelerators") and pool.get("initialNodeCount")
        record = start_operation(
            rt,
            project_id=project_id,
            location=location,
            operation_type="CREATE_NODE_POOL",
            target_link=pool["selfLink"],
            method=call.method.id,
            latency_key=CREATE_GPU_NODES if gpu_nodes else "",
            effect=apply_effect(key, {"kind": "poolCreate", "pool": pool["name"]}),
            failure_effect=fail_effect(key, "ERROR", pool["name"]),
        )
    return render(rt, record)


@HANDLERS(_M + "get")
def get(call: Call) -> dict[str, Any]:
    cluster = require_cluster(call, call.params["name"])[3]
    return find_pool(cluster, call.params["name"].split("/")[7])


@HANDLERS(_M + "list")
def list_(call: Call) -> dict[str, Any]:
    pools = require_cluster(call, call.params["parent"])[3].get("nodePools", [])
    return {"nodePools": pools} if pools else {}


def _start_pool_op(
    call: Call,
    verb: str,
    change: dict[str, Any],
    check: Callable[[JSON, str], object],
    *,
    status: str | None = None,
    failed: str = "RUNNING",
    duration: Callable[[JSON], float | None] = lambda pool: None,
) -> dict[str, Any]:
    """Check and start an operation on one node pool; `check(cluster, pool)` raises
    ModelError to refuse; `status` is the pool's while it runs, `failed` after an error."""
    rt = call.rt
    with rt.store.transaction():
        project_id, location, key, cluster = require_cluster(call, call.params["name"])
        pool = find_pool(cluster, call.params["name"].split("/")[7])
        require_idle(rt, project_id, location, cluster["name"], pool["name"])
        try:
            check(cluster, pool["name"])
        except ModelError as exc:
            raise api_error(exc) from None
        if status is not None:
            rt.store.put(CLUSTERS, key, with_pool_status(cluster, pool["name"], status))
        record = start_operation(
            rt,
            project_id=project_id,
            location=location,
            operation_type=OPERATION_TYPE_BY_METHOD[f"nodePools.{verb}"],
            target_link=pool["selfLink"],
            method=call.method.id,
            effect=apply_effect(key, {**change, "pool": pool["name"]}),
            failure_effect=fail_effect(key, failed, pool["name"]),
            duration=duration(pool),
            nodes=int(pool.get("initialNodeCount", 0)) * len(pool.get("locations", [])),
        )
    return render(rt, record)


@HANDLERS(_M + "update")
def update(call: Call) -> dict[str, Any]:
    request = dict(call.body)
    rt = call.rt

    def upgrade_time(pool: JSON) -> float | None:
        if "nodeVersion" not in request:
            return None
        nodes = int(pool.get("initialNodeCount", 0)) * len(pool.get("locations", []))
        return rt.latency.sample(UPGRADE_PER_NODE) * max(1, nodes)

    return _start_pool_op(
        call,
        "update",
        {"kind": "poolUpdate", "request": request},
        lambda cluster, pool: update_node_pool(cluster, pool, request),
        status="RECONCILING",
        duration=upgrade_time,
    )


@HANDLERS(_M + "setAutoscaling")
def set_pool_autoscaling(call: Call) -> dict[str, Any]:
    autoscaling = dict(call.body.get("autoscaling") or {})
    return _start_pool_op(
        call,
        "setAutoscaling",
        {"kind": "autoscaling", "autoscaling": autoscaling},
        lambda cluster, pool: set_autoscaling(cluster, pool, autoscaling),
    )


@HANDLERS(_M + "setSize")
def set_pool_size(call: Call) -> dict[str, Any]:
    size = int(call.body.get("nodeCount", 0))
    return _start_pool_op(
        call,
        "setSize",
        {"kind": "size", "size": size},
        lambda cluster, pool: set_size(cluster, pool, size),
        status="RECONCILING",
    )


@HANDLERS(_M + "setManagement")
def set_pool_management(call: Call) -> dict[str, Any]:
    management = dict(call.body.get("management") or {})
    return _start_pool_op(
        call,
        "setManagement",
        {"kind": "management", "management": management},
        lambda cluster, pool: set_management(cluster, pool, management),
    )


@HANDLERS(_M + "delete")
def delete(call: Call) -> dict[str, Any]:
    return _start_pool_op(
        call,
        "delete",
        {"kind": "poolDelete"},
        lambda cluster, pool: None,
        status="STOPPING",
        failed="ERROR",
    )
