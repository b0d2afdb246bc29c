"""Pure unit tests of GKE operations and the one-operation-at-a-time rule."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sandbox.gcp.container import operation_rules as ops
from sandbox.gcp.container.validation import ModelError

NOW = "2026-01-01T00:00:00Z"
HOST = "http://127.0.0.1:8080"


def test_operations_look_like_gke_operations() -> None:
    link = f"{HOST}/v1/projects/p/locations/us-central1/clusters/c"
    op = ops.new_operation("CREATE_CLUSTER", "p", "us-central1", link, now=NOW, host=HOST)
    assert re.fullmatch(r"operation-1767225600000-[0-9a-f]{8}", op["name"])
    assert op["selfLink"] == f"{HOST}/v1/projects/p/locations/us-central1/operations/{op['name']}"
    assert (op["status"], op["zone"], op["location"], op["startTime"]) == (
        "RUNNING",
        "us-central1",
        "us-central1",
        NOW,
    )
    zonal = ops.new_operation(
        "SET_LABELS", "p", "us-central1-a", link, now="2026-01-01T00:00:00.123456789Z", host=HOST
    )
    assert "/zones/us-central1-a/operations/operation-1767225600123-" in zonal["selfLink"]
    done = ops.finish_operation(op, now="2026-01-01T00:05:00Z")
    assert (done["status"], done["endTime"], "error" in done) == (
        "DONE",
        "2026-01-01T00:05:00Z",
        False,
    )
    failed = ops.finish_operation(op, ModelError("FAILED_PRECONDITION", "no"), now=NOW)
    assert failed["error"] == {"code": 9, "message": "no"} and failed["statusMessage"] == "no"
    with pytest.raises(ValueError, match="operationType"):
        ops.new_operation("SET_NODE_POOL_AUTOSCALING", "p", "l", link, now=NOW, host=HOST)
    assert ops.OPERATION_TYPE_BY_METHOD["nodePools.setAutoscaling"] == "UPDATE_CLUSTER"


def running_op(
    kind: str, pool: str | None = None, cluster: str = "c", status: str = "RUNNING"
) -> dict[str, Any]:
    link = f"{HOST}/v1/projects/p/locations/l/clusters/{cluster}" + (
        f"/nodePools/{pool}" if pool else ""
    )
    return {**ops.new_operation(kind, "p", "l", link, now=NOW, host=HOST), "status": status}


def test_one_operation_at_a_time() -> None:
    upgrade = running_op("UPGRADE_MASTER")
    error = ops.operation_conflict([upgrade], "c")
    assert error is not None and error.code == "FAILED_PRECONDITION"
    assert error.message == (
        f"Operation {upgrade['name']} is currently upgrading cluster c. "
        "Please wait and try again once it is done."
    )
    assert ops.operation_conflict([upgrade], "c", "pool-a") is not None
    create = running_op("CREATE_NODE_POOL", "pool-a")
    same = ops.operation_conflict([create], "c", "pool-a")
    assert same is not None and "is currently operating on cluster c" in same.message
    assert ops.operation_conflict([create], "c") is not None  # a cluster op waits for pool ops
    assert ops.operation_conflict([create], "c", "pool-b") is None
    ignored = [
        running_op("DELETE_CLUSTER", status="DONE"),
        running_op("UPGRADE_MASTER", cluster="d"),
    ]
    assert ops.operation_conflict(ignored, "c") is None
    five = [running_op("SET_NODE_POOL_SIZE", f"pool-{i}") for i in range(5)]
    assert ops.operation_conflict(five[:4], "c", "pool-x") is None
    quota = ops.operation_conflict(five, "c", "pool-x")
    assert quota is not None and (quota.code, quota.http_status) == ("RESOURCE_EXHAUSTED", 429)
    assert quota.message == (
        'Too many operations: cluster "c" hits the concurrent operations quota 5, '
        "please try again later."
    )
