"""How GKE update methods change a stored cluster (Container v1), as pure functions.

Inputs are never mutated: each function returns a new cluster (node pools are embedded in it)
with fresh `etag`s on what changed and, for labels, a fresh `labelFingerprint`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from sandbox.gcp.container.control_plane import ACCESS_UPDATES, update_access
from sandbox.gcp.container.defaults import (
    cluster_autoscaling_defaults,
    node_count,
    pool_autoscaling,
)
from sandbox.gcp.container.naming import (
    JSON,
    cluster_path,
    compute_etag,
    is_offered,
    is_zonal,
    label_fingerprint,
    region_of,
    resolve_version,
)
from sandbox.gcp.container.update_fields import apply_field_update
from sandbox.gcp.container.validation import (
    ModelError,
    check_autoscaling,
    check_management,
    check_node_config,
    check_resource_limits,
)
from sandbox.gcp.names import digest

# ClusterUpdate fields that replace one cluster field as they are.
DIRECT_UPDATES = {
    "desiredWorkloadIdentityConfig": "workloadIdentityConfig",
    "desiredShieldedNodes": "shieldedNodes",
    "desiredLoggingService": "loggingService",
    "desiredMonitoringService": "monitoringService",
    "desiredLoggingConfig": "loggingConfig",
    "desiredMonitoringConfig": "monitoringConfig",
    "desiredVerticalPodAutoscaling": "verticalPodAutoscaling",
    "desiredBinaryAuthorization": "binaryAuthorization",
    "desiredDatabaseEncryption": "databaseEncryption",
    "desiredNotificationConfig": "notificationConfig",
    "desiredSecurityPostureConfig": "securityPostureConfig",
    "desiredCostManagementConfig": "costManagementConfig",
    "desiredResourceUsageExportConfig": "resourceUsageExportConfig",
    "desiredIdentityServiceConfig": "identityServiceConfig",
}
_POOL_SCOPED = ("desiredNodePoolAutoscaling", "desiredNodeVersion", "desiredImageType")
# UpdateNodePoolRequest wrapper messages: request field → (NodeConfig field, wrapped key).
_WRAPPED = {
    "labels": ("labels", "labels"),
    "resourceLabels": ("resourceLabels", "labels"),
    "taints": ("taints", "taints"),
    "tags": ("tags", "tags"),
}
_ADDRESSING = ("projectId", "zone", "clusterId", "nodePoolId", "name", "etag")
# UpdateNodePoolRequest fields that replace the same-named NodePool or NodeConfig field.
_POOL_FIELDS = frozenset({"maintenancePolicy", "queuedProvisioning", "nodeDrainConfig"})
_CONFIG_FIELDS = frozenset(
    {
        "accelerators",
        "bootDisk",
        "confidentialNodes",
        "consolidationDelay",
        "containerdConfig",
        "diskType",
        "fastSocket",
        "flexStart",
        "gcfsConfig",
        "gvnic",
        "imageType",
        "kubeletConfig",
        "linuxNodeConfig",
        "loggingConfig",
        "machineType",
        "maxRunDuration",
        "resourceManagerTags",
        "storagePools",
        "taintConfig",
        "windowsNodeConfig",
        "workloadMetadataConfig",
    }
)
_PROVISIONING_LABEL = "goog-gke-node-pool-provisioning-model"


def apply_cluster_update(cluster: Mapping[str, Any], update: Mapping[str, Any]) -> JSON:
    """Apply a ClusterUpdate (UpdateClusterRequest.update) to a stored cluster."""
    fields = {k: v for k, v in update.items() if k not in ("etag", "desiredNodePoolId")}
    if not fields:
        raise ModelError("INVALID_ARGUMENT", "Must specify a field to update.")
    if update.get("etag") and update["etag"] != cluster.get("etag"):
        raise ModelError("ABORTED", f'Cluster etag "{update["etag"]}" is not the current one.')
    result = copy.deepcopy(dict(cluster))
    for key, value in fields.items():
        if key in DIRECT_UPDATES:
            result[DIRECT_UPDATES[key]] = copy.deepcopy(value)
        elif key in _POOL_SCOPED:
            _update_pool_field(result, key, value, update.get("desiredNodePoolId"))
        elif key == "desiredAddonsConfig":
            result["addonsConfig"] = {**result.get("addonsConfig", {}), **copy.deepcopy(value)}
        elif key == "desiredClusterAutoscaling":
            check_resource_limits(value)
            result["autoscaling"] = cluster_autoscaling_defaults(value)
        elif key == "desiredReleaseChannel":
            channel = value.get("channel", "UNSPECIFIED")
            result["releaseChannel"] = {} if channel == "UNSPECIFIED" else {"channel": channel}
        elif key == "desiredMasterVersion":
            if not is_offered(str(value)):
                raise ModelError("INVALID_ARGUMENT", f'Master version "{value}" is unsupported.')
            channel = result.get("releaseChannel", {}).get("channel", "REGULAR")
            result["currentMasterVersion"] = resolve_version(value, channel)
        elif key == "desiredDatapathProvider":
            _check_datapath(result, value)
        elif key == "desiredLocations":
            _update_locations(result, list(value))
        elif key in ACCESS_UPDATES:
            continue  # together, below: a legacy field and its new equivalent may both come
        elif apply_field_update(result, key, value):
            continue
        else:
            raise ModelError("UNIMPLEMENTED", f"The sandbox does not emulate ClusterUpdate.{key}.")
    update_access(result, fields)
    return _touch(result)


def set_fields(cluster: Mapping[str, Any], fields: Mapping[str, Any]) -> JSON:
    """The older per-field set methods: replace whole cluster fields (a maintenance policy
    gets a fresh `resourceVersion`, as GKE gives it)."""
    result = copy.deepcopy(dict(cluster))
    for key, value in fields.items():
        result[key] = copy.deepcopy(value)
    if "maintenancePolicy" in fields:
        policy = {k: v for k, v in fields["maintenancePolicy"].items() if k != "resourceVersion"}
        text = json.dumps(policy, sort_keys=True) if policy else ""
        result["maintenancePolicy"] = {**policy, "resourceVersion": digest(text)[:8]}
    return _touch(result)


def update_operation_type(update: Mapping[str, Any]) -> str:
    """The Operation.operationType GKE reports for a ClusterUpdate."""
    if "desiredMasterVersion" in update:
        return "UPGRADE_MASTER"
    if "desiredNodeVersion" in update or "desiredImageType" in update:
        return "UPGRADE_NODES"
    return "UPDATE_CLUSTER"


def set_labels(cluster: Mapping[str, Any], labels: Mapping[str, str], fingerprint: str) -> JSON:
    """SetLabels: replace `resourceLabels` if `fingerprint` is the current labelFingerprint."""
    expected = cluster.get("labelFingerprint") or label_fingerprint(None)
    if fingerprint != expected:
        raise ModelError(
            "FAILED_PRECONDITION",
            "Labels could not be set due to fingerprint mismatch; try again with the proper "
            f'fingerprint: incorrect fingerprint supplied was "{fingerprint}", '
            f'the expected one is "{expected}".',
        )
    result = copy.deepcopy(dict(cluster))
    result.pop("resourceLabels", None)
    if labels:
        result["resourceLabels"] = dict(labels)
    result["labelFingerprint"] = label_fingerprint(labels)
    return _touch(result)


def set_status(cluster: Mapping[str, Any], status: str, node_pool: str | None = None) -> JSON:
    """The cluster with its status, or one node pool's, set (e.g. RUNNING when an op ends).

    A cluster turning RUNNING also settles its PROVISIONING node pools.
    """
    result = copy.deepcopy(dict(cluster))
    if node_pool is not None:
        pool = _pool(result, node_pool)
        pool["status"] = status
        return _touch_pool(result, pool)
    result["status"] = status
    for pool in result.get("nodePools", []):
        if status == "RUNNING" and pool.get("status") == "PROVISIONING":
            pool["status"] = status
            pool["etag"] = compute_etag(pool)
    return _touch(result)


def update_node_pool(
    cluster: Mapping[str, Any], pool_name: str, request: Mapping[str, Any]
) -> JSON:
    """Apply an UpdateNodePoolRequest; wrapped lists and maps (labels, taints…) are replaced."""
    result = copy.deepcopy(dict(cluster))
    pool = _pool(result, pool_name)
    if request.get("etag") and request["etag"] != pool.get("etag"):
        raise ModelError("ABORTED", f'Node pool etag "{request["etag"]}" is not the current one.')
    fields = {k: v for k, v in request.items() if k not in _ADDRESSING}
    if not fields:
        raise ModelError("INVALID_ARGUMENT", "Must specify a field to update.")
    config = pool["config"]
    for key, value in fields.items():
        if key == "nodeVersion":
            pool["version"] = resolve_version(value, "", result.get("currentMasterVersion"))
        elif key == "locations":
            _check_zones(result, list(value))
            pool["locations"] = list(value)
        elif key == "upgradeSettings":
            pool["upgradeSettings"] = {**pool.get("upgradeSettings", {}), **copy.deepcopy(value)}
        elif key in _WRAPPED:
            target, inner = _WRAPPED[key]
            config.pop(target, None)
            if value.get(inner):
                config[target] = copy.deepcopy(value[inner])
        elif key == "diskSizeGb":
            config["diskSizeGb"] = int(value)  # int64 in the request, int32 in NodeConfig
        elif key == "nodeNetworkConfig":
            pool["networkConfig"] = {**pool.get("networkConfig", {}), **copy.deepcopy(value)}
        elif key in _CONFIG_FIELDS or key in _POOL_FIELDS:
            (config if key in _CONFIG_FIELDS else pool)[key] = copy.deepcopy(value)
        else:
            raise ModelError("UNIMPLEMENTED", f"The sandbox does not emulate UpdateNodePool {key}.")
    if "resourceLabels" in fields:
        model = "spot" if config.get("spot") or config.get("preemptible") else "on-demand"
        config["resourceLabels"] = {
            **config.get("resourceLabels", {}),
            _PROVISIONING_LABEL: model,
        }
    for accelerator in config.get("accelerators", []):
        accelerator["acceleratorCount"] = str(accelerator.get("acceleratorCount", "0"))
    check_node_config(config)
    if "locations" in fields:
        result["currentNodeCount"] = node_count(result)
    return _touch_pool(result, pool)


def set_autoscaling(
    cluster: Mapping[str, Any], pool_name: str, autoscaling: Mapping[str, Any]
) -> JSON:
    """SetNodePoolAutoscaling: replace the pool's autoscaling (`{}` once disabled)."""
    check_autoscaling(autoscaling)
    result = copy.deepcopy(dict(cluster))
    pool = _pool(result, pool_name)
    pool["autoscaling"] = pool_autoscaling(autoscaling)
    return _touch_pool(result, pool)


def set_size(cluster: Mapping[str, Any], pool_name: str, size: int) -> JSON:
    """SetNodePoolSize (nodes per zone); like GKE, it rewrites the pool's initialNodeCount."""
    if size < 0:
        raise ModelError("INVALID_ARGUMENT", f"Invalid node count {size}: must not be negative.")
    result = copy.deepcopy(dict(cluster))
    pool = _pool(result, pool_name)
    pool.pop("initialNodeCount", None)
    if size:
        pool["initialNodeCount"] = size
    result["currentNodeCount"] = node_count(result)
    return _touch_pool(result, pool)


def set_management(
    cluster: Mapping[str, Any], pool_name: str, management: Mapping[str, Any]
) -> JSON:
    """SetNodePoolManagement: replace autoRepair/autoUpgrade (an absent flag means false)."""
    result = copy.deepcopy(dict(cluster))
    pool = _pool(result, pool_name)
    check_management(result, pool_name, management)
    pool["management"] = copy.deepcopy(dict(management))
    return _touch_pool(result, pool)


def _touch(cluster: JSON) -> JSON:
    cluster["etag"] = compute_etag(cluster)
    return cluster


def _touch_pool(cluster: JSON, pool: JSON) -> JSON:
    pool["etag"] = compute_etag(pool)
    if cluster.get("nodePools") and pool is cluster["nodePools"][0]:
        cluster["nodeConfig"] = copy.deepcopy(pool["config"])  # the first pool's, as GKE reports
    return _touch(cluster)


def _pool(cluster: JSON, name: str) -> JSON:
    pools: list[JSON] = cluster.get("nodePools", [])
    for pool in pools:
        if pool["name"] == name:
            return pool
    project, location, cluster_name = cluster_path(cluster)
    path = f"projects/{project}/locations/{location}/clusters/{cluster_name}/nodePools/{name}"
    raise ModelError("NOT_FOUND", f"Not found: {path}.")


def _update_pool_field(cluster: JSON, key: str, value: Any, pool_id: str | None) -> None:
    pools = cluster.get("nodePools", [])
    if not pool_id and len(pools) != 1:
        raise ModelError(
            "INVALID_ARGUMENT",
            "Node pool id must be specified if cluster has more than one node pool.",
        )
    pool = _pool(cluster, pool_id or pools[0]["name"])
    if key == "desiredNodePoolAutoscaling":
        check_autoscaling(value)
        pool["autoscaling"] = pool_autoscaling(value)
    elif key == "desiredNodeVersion":
        pool["version"] = resolve_version(value, "", cluster.get("currentMasterVersion"))
        cluster["currentNodeVersion"] = min(p["version"] for p in pools)
    else:
        pool["config"]["imageType"] = value
    _touch_pool(cluster, pool)


def _update_locations(cluster: JSON, locations: list[str]) -> None:
    _check_zones(cluster, locations)
    location = cluster.get("location", "")
    if is_zonal(location) and location not in locations:
        raise ModelError(
            "INVALID_ARGUMENT", "Desired locations must include the cluster's primary zone."
        )
    cluster["locations"] = locations
    for pool in cluster.get("nodePools", []):
        pool["locations"] = list(locations)
        pool["etag"] = compute_etag(pool)
    cluster["currentNodeCount"] = node_count(cluster)


def _check_zones(cluster: Mapping[str, Any], zones: list[str]) -> None:
    region = region_of(cluster.get("location", ""))
    if not zones or not all(is_zonal(z) and region_of(z) == region for z in zones):
        raise ModelError("INVALID_ARGUMENT", f"Locations {zones} must be zones of {region}.")


def _check_datapath(cluster: Mapping[str, Any], provider: str) -> None:
    """The datapath (Dataplane V2 or not) is chosen at creation; no in-place switch is emulated."""
    current = cluster.get("networkConfig", {}).get("datapathProvider", "LEGACY_DATAPATH")
    if provider != current:
        raise ModelError(
            "INVALID_ARGUMENT",
            f"Changing the datapath provider of an existing cluster from {current} to "
            f"{provider} is not supported; create a new cluster instead.",
        )
