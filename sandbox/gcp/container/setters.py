"""GKE's older per-field cluster methods (`setMaintenancePolicy`, `setNetworkPolicy`,
`setLegacyAbac`, `setAddons`, `setLogging`, `setMonitoring`, `setLocations`), which gcloud and
Config Connector still send: each starts one cluster operation, like `clusters.update`."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.container.clusters import start_cluster_op, start_cluster_update
from sandbox.gcp.container.operations import PROTO
from sandbox.gcp.container.updates import set_fields

HANDLERS = Handlers("container.v1", proto=PROTO)
_M = "container.projects.locations.clusters."


def _set(call: Call, fields: dict[str, Any], operation_type: str) -> dict[str, Any]:
    return start_cluster_op(
        call,
        change={"kind": "fields", "fields": fields},
        operation_type=operation_type,
        check=lambda cluster: set_fields(cluster, fields),
        status=None,
    )


@HANDLERS(_M + "setMaintenancePolicy")
def set_maintenance_policy(call: Call) -> dict[str, Any]:
    policy = dict(call.body.get("maintenancePolicy") or {})
    return _set(call, {"maintenancePolicy": policy}, "SET_MAINTENANCE_POLICY")


@HANDLERS(_M + "setNetworkPolicy")
def set_network_policy(call: Call) -> dict[str, Any]:
    policy = dict(call.require(call.body.get("networkPolicy"), "network_policy"))
    return _set(call, {"networkPolicy": policy}, "SET_NETWORK_POLICY")


@HANDLERS(_M + "setLegacyAbac")
def set_legacy_abac(call: Call) -> dict[str, Any]:
    enabled = bool(call.body.get("enabled"))
    return _set(call, {"legacyAbac": {"enabled": True} if enabled else {}}, "UPDATE_CLUSTER")


@HANDLERS(_M + "setAddons")
def set_addons(call: Call) -> dict[str, Any]:
    addons = call.require(call.body.get("addonsConfig"), "addons_config")
    return start_cluster_update(call, {"desiredAddonsConfig": addons})


@HANDLERS(_M + "setLogging")
def set_logging(call: Call) -> dict[str, Any]:
    service = call.require(call.body.get("loggingService"), "logging_service")
    return start_cluster_update(call, {"desiredLoggingService": service})


@HANDLERS(_M + "setMonitoring")
def set_monitoring(call: Call) -> dict[str, Any]:
    service = call.require(call.body.get("monitoringService"), "monitoring_service")
    return start_cluster_update(call, {"desiredMonitoringService": service})


@HANDLERS(_M + "setLocations")
def set_locations(call: Call) -> dict[str, Any]:
    locations = call.require(call.body.get("locations"), "locations")
    return start_cluster_update(call, {"desiredLocations": list(locations)})
