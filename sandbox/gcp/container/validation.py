"""GKE (Container v1) domain rules: what GKE refuses when a cluster or node pool is created.

The Container model is split by concern; all modules are pure functions over camelCase JSON:
- naming: names, links, versions, label fingerprints and etags;
- defaults: `new_cluster`, `new_node_pool` (server-side defaults), re-exported here;
- validation (this module): `ModelError` and validation;
- updates: how update methods change a stored cluster;
- operation_rules: Operation resources and the one-operation-at-a-time rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sandbox.gcp.container.control_plane import requested_access
from sandbox.gcp.container.defaults import new_cluster, new_node_pool
from sandbox.gcp.container.model_error import ModelError
from sandbox.gcp.container.naming import (
    FULL_VERSION,
    VERSION_PREFIX,
    initial_channel,
    is_offered,
)

__all__ = [
    "ModelError",
    "check_accelerators",
    "check_autoscaling",
    "check_management",
    "check_node_config",
    "check_resource_limits",
    "new_cluster",
    "new_node_pool",
    "validate_cluster",
    "validate_node_pool",
]

NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?")
TAINT_EFFECTS = ("NO_SCHEDULE", "PREFER_NO_SCHEDULE", "NO_EXECUTE")
# Accelerator-optimized families: machine type pattern → (accelerator type, count rule).
_G2_L4 = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}
_N1_GPUS = {
    "nvidia-tesla-t4": (1, 2, 4),
    "nvidia-tesla-v100": (1, 2, 4, 8),
    "nvidia-tesla-p100": (1, 2, 4),
    "nvidia-tesla-p4": (1, 2, 4),
}


def validate_cluster(
    project: str, location: str, body: Mapping[str, Any], existing: Collection[str] = ()
) -> None:
    """Refuse a CreateCluster `cluster` as GKE does; `existing` holds the taken cluster names."""
    name = body.get("name", "")
    _check_name("cluster.name", name)
    if name in existing:
        path = f"projects/{project}/locations/{location}/clusters/{name}"
        raise ModelError("ALREADY_EXISTS", f"Already exists: {path}.")
    pools = body.get("nodePools") or []
    if pools and (body.get("initialNodeCount") or body.get("nodeConfig")):
        raise ModelError(
            "INVALID_ARGUMENT",
            "Cluster.node_pools cannot be set together with initial_node_count or node_config.",
        )
    autopilot = (body.get("autopilot") or {}).get("enabled")
    if not pools and not body.get("initialNodeCount") and not autopilot:
        raise ModelError(
            "INVALID_ARGUMENT", "Cluster.initial_node_count must be greater than zero."
        )
    version = body.get("initialClusterVersion") or "-"
    if version not in ("-", "latest") and not (
        (FULL_VERSION.match(version) or VERSION_PREFIX.match(version)) and is_offered(version)
    ):
        raise ModelError("INVALID_ARGUMENT", f'Master version "{version}" is unsupported.')
    _check_private(body.get("privateClusterConfig") or {})
    requested_access(body)  # a legacy field and its new equivalent must agree
    check_resource_limits(body.get("autoscaling") or {})
    check_node_config(body.get("nodeConfig") or {})
    seen: set[str] = set()
    channel = {"releaseChannel": {"channel": initial_channel(body)}}
    for pool in pools:
        validate_node_pool(pool, existing=seen)
        seen.add(pool["name"])
        if "management" in pool and channel["releaseChannel"]["channel"] != "UNSPECIFIED":
            check_management(channel, pool["name"], pool["management"])


def validate_node_pool(
    body: Mapping[str, Any],
    cluster: Mapping[str, Any] | None = None,
    existing: Collection[str] = (),
) -> None:
    """Refuse a `nodePool` as GKE does; with `cluster`, also against that cluster's state."""
    name = body.get("name", "")
    _check_name("node_pool.name", name)
    taken = set(existing) | {p["name"] for p in (cluster or {}).get("nodePools", [])}
    if name in taken:
        parent = cluster["selfLink"].split("/v1/", 1)[1] + "/nodePools/" if cluster else ""
        raise ModelError("ALREADY_EXISTS", f"Already exists: {parent}{name}.")
    check_node_config(body.get("config") or {})
    check_autoscaling(body.get("autoscaling") or {})
    if cluster is not None and "management" in body:
        check_management(cluster, name, body["management"])


def check_node_config(config: Mapping[str, Any]) -> None:
    """Spot vs preemptible, accelerators vs machine type, taint effects, reservations."""
    if config.get("spot") and config.get("preemptible"):
        raise ModelError(
            "INVALID_ARGUMENT", "Spot and preemptible cannot be set together on a node pool."
        )
    check_accelerators(config.get("machineType", ""), config.get("accelerators") or [])
    for taint in config.get("taints") or []:
        effect = taint.get("effect", "EFFECT_UNSPECIFIED")
        if not taint.get("key") or effect not in TAINT_EFFECTS:
            raise ModelError(
                "INVALID_ARGUMENT",
                f'Invalid taint (key "{taint.get("key", "")}", effect "{effect}"): the key is '
                f"required and the effect must be one of {', '.join(TAINT_EFFECTS)}.",
            )
    affinity = config.get("reservationAffinity") or {}
    if affinity.get("consumeReservationType") == "SPECIFIC_RESERVATION" and not (
        affinity.get("key") and affinity.get("values")
    ):
        raise ModelError(
            "INVALID_ARGUMENT", "A SPECIFIC_RESERVATION affinity needs a key and values."
        )


def check_accelerators(machine_type: str, accelerators: Sequence[Mapping[str, Any]]) -> None:
    """Refuse GPU type/count combinations the machine type cannot take."""
    for accelerator in accelerators:
        kind = accelerator.get("acceleratorType", "")
        count = int(accelerator.get("acceleratorCount", 0))
        if not machine_type or machine_type == "e2-medium":
            raise ModelError(
                "INVALID_ARGUMENT",
                "Cannot use default machine type (e2-medium) with GPUs; choose a different "
                "machine type.",
            )
        allowed = _allowed_counts(machine_type, kind)
        if allowed is None:
            raise ModelError(
                "INVALID_ARGUMENT",
                f'Accelerator type "{kind}" is not supported with machine type "{machine_type}".',
            )
        if count not in allowed:
            raise ModelError(
                "INVALID_ARGUMENT",
                f'The accelerator count "{count}" is not allowed. The allowed numbers of '
                f'accelerator "{kind}" to use with machine type "{machine_type}" are: '
                f"[{', '.join(map(str, allowed))}].",
            )


def check_autoscaling(autoscaling: Mapping[str, Any]) -> None:
    """Node pool autoscaling limits: per-zone or total, never both; 0 <= min <= max, max > 0.

    A limit of 0 is proto3's unset value: explicit zero totals beside per-zone limits are
    accepted, as GKE accepts them (Config Connector sends that shape).
    """
    if not autoscaling.get("enabled"):
        return
    per_zone = any(int(autoscaling.get(k) or 0) for k in ("minNodeCount", "maxNodeCount"))
    total = any(int(autoscaling.get(k) or 0) for k in ("totalMinNodeCount", "totalMaxNodeCount"))
    if per_zone and total:
        raise ModelError(
            "INVALID_ARGUMENT", "Autoscaling cannot mix per-zone and total node count limits."
        )
    low_key, high_key = (
        ("totalMinNodeCount", "totalMaxNodeCount") if total else ("minNodeCount", "maxNodeCount")
    )
    low, high = int(autoscaling.get(low_key) or 0), int(autoscaling.get(high_key) or 0)
    if low < 0 or high <= 0 or low > high:
        raise ModelError(
            "INVALID_ARGUMENT",
            f"Invalid autoscaling limits: {low_key} {low}, {high_key} {high} "
            "(need 0 <= min <= max and max > 0).",
        )


def check_resource_limits(autoscaling: Mapping[str, Any]) -> None:
    """Cluster autoscaling resource limits: minimum <= maximum."""
    for limit in autoscaling.get("resourceLimits") or []:
        if int(limit.get("minimum", 0)) > int(limit.get("maximum", 0)):
            raise ModelError(
                "INVALID_ARGUMENT",
                f'Resource limit "{limit.get("resourceType")}": minimum exceeds maximum.',
            )


def check_management(cluster: Mapping[str, Any], pool: str, management: Mapping[str, Any]) -> None:
    """Node pools of a cluster in a release channel must keep auto-upgrade on."""
    if (cluster.get("releaseChannel") or {}).get("channel") and not management.get("autoUpgrade"):
        raise ModelError(
            "INVALID_ARGUMENT",
            f'Auto-upgrade must be enabled for node pool "{pool}": its cluster is enrolled in a '
            "release channel.",
        )


def _allowed_counts(machine_type: str, kind: str) -> tuple[int, ...] | None:
    family, _, shape = machine_type.partition("-")
    if family == "g2":
        vcpus = int(shape.rsplit("-", 1)[-1]) if shape.startswith("standard-") else 0
        return (_G2_L4[vcpus],) if kind == "nvidia-l4" and vcpus in _G2_L4 else None
    if family in ("a2", "a3"):
        found = re.fullmatch(r"(highgpu|megagpu|ultragpu|edgegpu)-(\d+)g", shape)
        expected = {
            ("a2", "highgpu"): "nvidia-tesla-a100",
            ("a2", "megagpu"): "nvidia-tesla-a100",
            ("a2", "ultragpu"): "nvidia-a100-80gb",
            ("a3", "highgpu"): "nvidia-h100-80gb",
            ("a3", "megagpu"): "nvidia-h100-mega-80gb",
            ("a3", "edgegpu"): "nvidia-h100-80gb",
        }.get((family, found.group(1) if found else ""))
        return (int(found.group(2)),) if found and kind == expected else None
    if family == "n1":
        return _N1_GPUS.get(kind)
    return None


def _check_name(field: str, name: str) -> None:
    if not NAME.fullmatch(name or ""):
        raise ModelError(
            "INVALID_ARGUMENT",
            f"Invalid value for field '{field}': \"{name}\". Must be a match of regex "
            "'(?:[a-z](?:[-a-z0-9]{0,38}[a-z0-9])?)' (only alphanumerics and '-' allowed, must "
            "start with a letter and end with an alphanumeric, and must be no longer than 40 "
            "characters).",
        )


def _check_private(config: Mapping[str, Any]) -> None:
    """Private nodes need a /28 control-plane range, unless a PSC endpoint subnetwork is given."""
    if not config.get("enablePrivateNodes"):
        return
    block = config.get("masterIpv4CidrBlock", "")
    if config.get("privateEndpointSubnetwork"):
        if block:
            raise ModelError(
                "INVALID_ARGUMENT",
                "When masterIpv4Cidr is set, privateEndpointSubnetwork must be unset.",
            )
        return
    try:
        network = ipaddress.ip_network(block)
    except ValueError as exc:
        raise ModelError(
            "INVALID_ARGUMENT",
            f'Unable to parse cluster.master_ipv4_cidr "{block}" into a valid IP address and mask.',
        ) from exc
    if network.prefixlen != 28:
        raise ModelError(
            "INVALID_ARGUMENT",
            f'Invalid master_ipv4_cidr_block "{block}": the control plane range must be a /28.',
        )
