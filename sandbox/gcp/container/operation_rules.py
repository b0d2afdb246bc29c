"""GKE (Container v1) Operation resources and the one-operation-at-a-time rule, as data.

GKE answers mutations with a `container_v1.Operation` (not a google.longrunning one) that the
caller polls. It runs one cluster-level operation at a time, or one per node pool, and at most
`MAX_NODE_POOL_OPERATIONS` node pool operations in parallel.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sandbox.errors import RPC_CODES
from sandbox.gcp.container.naming import JSON, is_zonal
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.names import digest

OPERATION_TYPES = frozenset(
    {
        "CREATE_CLUSTER",
        "DELETE_CLUSTER",
        "UPGRADE_MASTER",
        "UPGRADE_NODES",
        "REPAIR_CLUSTER",
        "UPDATE_CLUSTER",
        "CREATE_NODE_POOL",
        "DELETE_NODE_POOL",
        "SET_NODE_POOL_MANAGEMENT",
        "AUTO_REPAIR_NODES",
        "AUTO_UPGRADE_NODES",
        "SET_LABELS",
        "SET_MASTER_AUTH",
        "SET_NODE_POOL_SIZE",
        "SET_NETWORK_POLICY",
        "SET_MAINTENANCE_POLICY",
        "RESIZE_CLUSTER",
        "FLEET_FEATURE_UPGRADE",
    }
)
# The operationType GKE reports for each method (there is no SET_NODE_POOL_AUTOSCALING).
OPERATION_TYPE_BY_METHOD = {
    "clusters.create": "CREATE_CLUSTER",
    "clusters.delete": "DELETE_CLUSTER",
    "clusters.update": "UPDATE_CLUSTER",
    "clusters.updateMaster": "UPGRADE_MASTER",
    "clusters.setResourceLabels": "SET_LABELS",
    "nodePools.create": "CREATE_NODE_POOL",
    "nodePools.delete": "DELETE_NODE_POOL",
    "nodePools.update": "UPGRADE_NODES",
    "nodePools.setAutoscaling": "UPDATE_CLUSTER",
    "nodePools.setSize": "SET_NODE_POOL_SIZE",
    "nodePools.setManagement": "SET_NODE_POOL_MANAGEMENT",
}
MAX_NODE_POOL_OPERATIONS = 5
_ACTIVE = ("PENDING", "RUNNING", "ABORTING")
_VERBS = {
    "CREATE_CLUSTER": "creating",
    "DELETE_CLUSTER": "deleting",
    "UPGRADE_MASTER": "upgrading",
    "UPGRADE_NODES": "upgrading",
    "UPDATE_CLUSTER": "upgrading",
    "REPAIR_CLUSTER": "repairing",
}
_TARGET = re.compile(r"/clusters/([^/]+)(?:/nodePools/([^/]+))?$")


def new_operation(
    kind: str, project: str, location: str, target_link: str, *, now: str, host: str
) -> JSON:
    """A RUNNING Operation of type `kind` (an operationType name) on `target_link`."""
    if kind not in OPERATION_TYPES:
        raise ValueError(f"unknown operationType {kind}")
    name = f"operation-{_epoch_millis(now)}-{digest(kind, target_link, now)[:8]}"
    scope = "zones" if is_zonal(location) else "locations"
    parent = f"{host.rstrip('/')}/v1/projects/{project}/{scope}/{location}"
    return {
        "name": name,
        "zone": location,
        "location": location,
        "operationType": kind,
        "status": "RUNNING",
        "selfLink": f"{parent}/operations/{name}",
        "targetLink": target_link,
        "startTime": now,
    }


# CREATE_CLUSTER's stages as GKE reports them: (metric, steps done at the end, total steps).
_CREATE_STAGES = (
    ("CLUSTER_CONFIGURING", 8, 8),
    ("CLUSTER_DEPLOYING", 12, 12),
    ("CLUSTER_HEALTHCHECKING", 1, 2),
)


def operation_progress(kind: str, fraction: float, nodes: int = 0) -> JSON | None:
    """`progress` of an operation `fraction` (0..1) of the way through, for the types GKE
    reports metrics for (Config Connector's recordings): CREATE_CLUSTER's stages, one after
    the other, and UPGRADE_NODES' node counts. None for the others."""
    fraction = min(1.0, max(0.0, fraction))
    metrics: list[JSON] = []
    if kind == "CREATE_CLUSTER":
        total_steps = sum(total for _, _, total in _CREATE_STAGES)
        reached = fraction * total_steps
        for name, final, total in _CREATE_STAGES:
            done = final if fraction >= 1 else min(final, int(max(0.0, reached)))
            reached -= total
            metrics += [
                {"name": name, "intValue": str(done)},
                {"name": f"{name}_TOTAL", "intValue": str(total)},
            ]
    elif kind == "UPGRADE_NODES":
        complete = nodes if fraction >= 1 else int(fraction * nodes)
        metrics = [
            {"name": "NODES_TOTAL", "intValue": str(nodes)},
            {"name": "NODES_FAILED", "intValue": "0"},
            {"name": "NODES_COMPLETE", "intValue": str(complete)},
            {"name": "NODES_DONE", "intValue": str(complete)},
            {"name": "NODE_PDB_DELAY_SECONDS", "intValue": "0"},
        ]
    return {"metrics": metrics} if metrics else None


def finish_operation(
    operation: Mapping[str, Any], error: ModelError | None = None, *, now: str
) -> JSON:
    """The operation DONE at `now`; with `error`, failed with a google.rpc.Status."""
    done = copy.deepcopy(dict(operation))
    done.update(status="DONE", endTime=now)
    if error is not None:
        done["error"] = {"code": RPC_CODES.get(error.code, 2), "message": error.message}
        done["statusMessage"] = error.message
    return done


def operation_target(operation: Mapping[str, Any]) -> tuple[str, str | None]:
    """(cluster, node pool or None) an operation works on, from its targetLink."""
    found = _TARGET.search(operation.get("targetLink", ""))
    if found is None:
        raise ValueError(f"not a cluster or node pool targetLink: {operation.get('targetLink')}")
    return found.group(1), found.group(2)


def operation_conflict(
    running: Iterable[Mapping[str, Any]], cluster: str, node_pool: str | None = None
) -> ModelError | None:
    """Why a new operation on `cluster` (or one of its node pools) must wait, if it must.

    `running` are the operations recorded for the cluster, in any status: only PENDING,
    RUNNING and ABORTING ones count. A cluster-level operation excludes every other; a node
    pool operation excludes cluster-level ones and others on the same pool.
    """
    active = [op for op in running if op.get("status") in _ACTIVE]
    pool_ops = 0
    for op in active:
        op_cluster, op_pool = operation_target(op)
        if op_cluster != cluster:
            continue
        if node_pool is None or op_pool is None or op_pool == node_pool:
            verb = _VERBS.get(op.get("operationType", ""), "operating on")
            return ModelError(
                "FAILED_PRECONDITION",
                f"Operation {op['name']} is currently {verb} cluster {cluster}. "
                "Please wait and try again once it is done.",
            )
        pool_ops += 1
    if pool_ops >= MAX_NODE_POOL_OPERATIONS:
        return ModelError(
            "RESOURCE_EXHAUSTED",
            f'Too many operations: cluster "{cluster}" hits the concurrent operations quota '
            f"{MAX_NODE_POOL_OPERATIONS}, please try again later.",
        )
    return None


def _epoch_millis(now: str) -> int:
    """Milliseconds since the epoch of an RFC 3339 time (fractions beyond µs are dropped)."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", now)
    return int(datetime.fromisoformat(trimmed).timestamp() * 1000)
