"""Container v1 (GKE) clusters: create, get, list, update, updateMaster, setResourceLabels, delete.

Every mutation answers a RUNNING `container_v1.Operation` (polled at
`projects/P/locations/L/operations/OP`) and changes the cluster when it is done. Creation needs
the Kubernetes Engine API enabled, billing, and the network, subnetwork and secondary ranges in
Compute; one operation runs per cluster at a time. Other cluster methods answer 501.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox import latency
from sandbox.api import Call, Handlers
from sandbox.clock import rfc3339
from sandbox.errors import failed_precondition, invalid_argument
from sandbox.gcp.container.account_checks import (
    check_cluster_service_accounts,
    check_update_service_accounts,
)
from sandbox.gcp.container.cluster_store import (
    CLUSTERS,
    apply_effect,
    cluster_key,
    fail_effect,
    require_cluster,
)
from sandbox.gcp.container.naming import JSON, is_zonal
from sandbox.gcp.container.network_checks import check_reservation, cluster_subnet_ranges
from sandbox.gcp.container.operations import (
    HOST,
    PROTO,
    api_error,
    location_of,
    render,
    require_idle,
    require_paid,
    start_operation,
)
from sandbox.gcp.container.updates import (
    apply_cluster_update,
    set_labels,
    set_status,
    update_operation_type,
)
from sandbox.gcp.container.validation import ModelError, new_cluster, validate_cluster
from sandbox.gcp.resourcemanager.projects import number_of, usable

HANDLERS = Handlers("container.v1", proto=PROTO)
_M = "container.projects.locations.clusters."
CREATE_ZONAL = "container.clusters.create.zonal"
UPDATE_CONTROL_PLANE = "container.clusters.update.controlPlane"
# ClusterUpdate fields that touch the control plane (slow: ~15 min or more).
_CONTROL_PLANE = frozenset(
    {
        "desiredMasterVersion",
        "desiredClusterAutoscaling",
        "desiredLocations",
        "desiredWorkloadIdentityConfig",
        "desiredDatabaseEncryption",
        "desiredEnablePrivateEndpoint",
    }
)
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")

latency.declare(
    {
        _M + "create": (480.0, 900.0),
        CREATE_ZONAL: (300.0, 540.0),
        _M + "update": (30.0, 120.0),
        UPDATE_CONTROL_PLANE: (900.0, 1800.0),
        _M + "updateMaster": (900.0, 1800.0),
        _M + "setResourceLabels": (30.0, 120.0),
        _M + "delete": (300.0, 600.0),
    }
)


def _check_location(location: str) -> None:
    if not (is_zonal(location) or _REGION.match(location)):
        raise invalid_argument(f'Location "{location}" is not a valid zone or region.', "parent")


def _check_cluster(project_id: str, cluster: JSON) -> None:
    """Create-time rules beyond the model: the workload pool, Dataplane V2's own policy."""
    pool = (cluster.get("workloadIdentityConfig") or {}).get("workloadPool")
    if pool and pool != f"{project_id}.svc.id.goog":
        raise invalid_argument(
            f'Workload Identity pool "{pool}" is invalid: it must be "{project_id}.svc.id.goog".',
            "cluster.workload_identity_config.workload_pool",
        )
    datapath = (cluster.get("networkConfig") or {}).get("datapathProvider")
    policy_addon = (cluster.get("addonsConfig") or {}).get("networkPolicyConfig") or {}
    calico = (cluster.get("networkPolicy") or {}).get("enabled") or (
        "networkPolicyConfig" in (cluster.get("addonsConfig") or {})
        and not policy_addon.get("disabled")
    )
    if datapath == "ADVANCED_DATAPATH" and calico:
        raise invalid_argument(
            "Enabling NetworkPolicy for clusters with DatapathProvider=ADVANCED_DATAPATH is not "
            "allowed. Dataplane V2 will take care of network policy enforcement instead."
        )


@HANDLERS(_M + "create")
def create(call: Call) -> dict[str, Any]:
    rt = call.rt
    project_id, location = location_of(call, call.params["parent"])
    _check_location(location)
    project = usable(rt, project_id)
    require_paid(rt, project)
    body: JSON = call.require(call.body.get("cluster"), "cluster")
    with rt.store.transaction():
        taken = {c["name"] for c in rt.store.values(CLUSTERS, f"{project_id}/{location}/")}
        try:
            validate_cluster(project_id, location, body, taken)
        except ModelError as exc:
            raise api_error(exc) from None
        _check_cluster(project_id, body)
        ranges = cluster_subnet_ranges(rt, project_id, location, body)
        check_cluster_service_accounts(rt, body)
        cluster = new_cluster(
            project_id,
            location,
            body,
            now=rfc3339(rt.now()),
            project_number=number_of(project),
            host=HOST,
            secondary_ranges=ranges,
        )
        for pool in cluster["nodePools"]:
            check_reservation(rt, project_id, pool, pool["locations"])
        key = cluster_key(project_id, location, cluster["name"])
        rt.store.put(CLUSTERS, key, cluster)
        record = start_operation(
            rt,
            project_id=project_id,
            location=location,
            operation_type="CREATE_CLUSTER",
            target_link=cluster["selfLink"],
            method=call.method.id,
            latency_key=CREATE_ZONAL if is_zonal(location) else "",
            effect=apply_effect(key, {"kind": "create"}),
            failure_effect=fail_effect(key, "ERROR"),
        )
    return render(rt, record)


@HANDLERS(_M + "get")
def get(call: Call) -> dict[str, Any]:
    return require_cluster(call, call.params["name"])[3]


@HANDLERS(_M + "list")
def list_(call: Call) -> dict[str, Any]:
    project_id, location = location_of(call, call.params["parent"])
    prefix = f"{project_id}/" if location == "-" else f"{project_id}/{location}/"
    if location != "-":
        _check_location(location)
    clusters = call.rt.store.values(CLUSTERS, prefix)
    clusters.sort(key=lambda c: (c["location"], c["name"]))
    return {"clusters": clusters} if clusters else {}


def start_cluster_op(
    call: Call,
    *,
    change: dict[str, Any],
    operation_type: str,
    check: Callable[[JSON], object],
    status: str | None,
    latency_key: str = "",
) -> dict[str, Any]:
    """Check and start a cluster-level operation; `check(cluster)` raises ModelError to refuse."""
    rt = call.rt
    with rt.store.transaction():
        project_id, location, key, cluster = require_cluster(call, call.params["name"])
        require_idle(rt, project_id, location, cluster["name"], None)
        if cluster.get("status") not in ("RUNNING", "RECONCILING"):
            raise failed_precondition(
                f"Cluster {cluster['name']} is not ready: its status is {cluster.get('status')}."
            )
        try:
            check(cluster)
        except ModelError as exc:
            raise api_error(exc) from None
        if status is not None:
            rt.store.put(CLUSTERS, key, set_status(cluster, status))
        record = start_operation(
            rt,
            project_id=project_id,
            location=location,
            operation_type=operation_type,
            target_link=cluster["selfLink"],
            method=call.method.id,
            latency_key=latency_key,
            effect=apply_effect(key, change),
            failure_effect=fail_effect(key, "RUNNING"),
        )
    return render(rt, record)


def start_cluster_update(call: Call, update: JSON) -> dict[str, Any]:
    slow = call.method.verb == "update" and bool(_CONTROL_PLANE & set(update))
    return start_cluster_op(
        call,
        change={"kind": "update", "update": update},
        operation_type=update_operation_type(update),
        latency_key=UPDATE_CONTROL_PLANE if slow else "",
        check=lambda cluster: apply_cluster_update(cluster, update),
        status="RECONCILING",
    )


@HANDLERS(_M + "update")
def update(call: Call) -> dict[str, Any]:
    changes = call.require(call.body.get("update"), "update")
    check_update_service_accounts(call.rt, changes)
    return start_cluster_update(call, changes)


@HANDLERS(_M + "updateMaster")
def update_master(call: Call) -> dict[str, Any]:
    version = call.require(call.body.get("masterVersion"), "master_version")
    return start_cluster_update(call, {"desiredMasterVersion": version})


@HANDLERS(_M + "setResourceLabels")
def set_resource_labels(call: Call) -> dict[str, Any]:
    labels = dict(call.body.get("resourceLabels") or {})
    fingerprint = str(call.body.get("labelFingerprint", ""))
    return start_cluster_op(
        call,
        change={"kind": "labels", "labels": labels},
        operation_type="SET_LABELS",
        check=lambda cluster: set_labels(cluster, labels, fingerprint),
        status=None,
    )


@HANDLERS(_M + "delete")
def delete(call: Call) -> dict[str, Any]:
    rt = call.rt
    with rt.store.transaction():
        project_id, location, key, cluster = require_cluster(call, call.params["name"])
        require_idle(rt, project_id, location, cluster["name"], None)
        stopping = set_status(cluster, "STOPPING")
        for pool in stopping.get("nodePools", []):
            pool["status"] = "STOPPING"
        rt.store.put(CLUSTERS, key, stopping)
        record = start_operation(
            rt,
            project_id=project_id,
            location=location,
            operation_type="DELETE_CLUSTER",
            target_link=cluster["selfLink"],
            method=call.method.id,
            effect=apply_effect(key, {"kind": "delete"}),
            failure_effect=fail_effect(key, "ERROR"),
        )
    return render(rt, record)
