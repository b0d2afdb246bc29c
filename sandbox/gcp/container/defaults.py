"""GKE (Container v1) server-side defaults: a created Cluster or NodePool as GKE reports it.

Pure functions over camelCase JSON dicts (enums as names, int64 as strings, int32 as ints).
Addresses and certificates are derived from a hash of the inputs, so the same request at the
same `now` always yields the same resource.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Mapping
from typing import Any

from sandbox.gcp.container.control_plane import dns_endpoint, render_access, requested_access
from sandbox.gcp.container.naming import (
    JSON,
    cluster_link,
    cluster_path,
    compute_etag,
    initial_channel,
    is_zonal,
    label_fingerprint,
    region_of,
    resolve_version,
    version_at_least,
)
from sandbox.gcp.names import digest

MANAGED_SERVICES_RANGE = "34.118.224.0/20"  # GKE-managed Service range (no secondary range)
COMPUTE = "https://www.googleapis.com/compute/v1"
SCOPE = "https://www.googleapis.com/auth/"
DEFAULT_SCOPES = [SCOPE + "logging.write", SCOPE + "monitoring"]
NODE_CONFIG_DEFAULTS: JSON = {
    "machineType": "e2-medium",
    "diskSizeGb": 100,
    "diskType": "pd-balanced",
    "imageType": "COS_CONTAINERD",
    "oauthScopes": DEFAULT_SCOPES,
    "serviceAccount": "default",
    "shieldedInstanceConfig": {"enableIntegrityMonitoring": True},
}
ADDON_DEFAULTS: JSON = {
    "httpLoadBalancing": {},  # an empty message means `disabled: false`, i.e. enabled
    "horizontalPodAutoscaling": {},
    "kubernetesDashboard": {"disabled": True},
    "networkPolicyConfig": {"disabled": True},
    "dnsCacheConfig": {},
    "gcePersistentDiskCsiDriverConfig": {"enabled": True},
    "gcsFuseCsiDriverConfig": {},
}
NAP_DEFAULTS: JSON = {
    "oauthScopes": DEFAULT_SCOPES,
    "serviceAccount": "default",
    "diskSizeGb": 100,
    "diskType": "pd-balanced",
    "imageType": "COS_CONTAINERD",
    "management": {"autoRepair": True, "autoUpgrade": True},
    "upgradeSettings": {"maxSurge": 1, "strategy": "SURGE"},
    "shieldedInstanceConfig": {"enableIntegrityMonitoring": True},
}

# What GKE reports of NAP's node defaults while auto-provisioning is off.
NAP_OFF_DEFAULTS: JSON = {
    "oauthScopes": DEFAULT_SCOPES,
    "serviceAccount": "default",
    "imageType": "COS_CONTAINERD",
    "management": {"autoRepair": True, "autoUpgrade": True},
    "upgradeSettings": {"strategy": "SURGE"},
}


def node_config_defaults(config: Mapping[str, Any] | None) -> JSON:
    """A NodeConfig with GKE's defaults filled in (and its injected resource label)."""
    cfg = copy.deepcopy(dict(config or {}))
    for key, value in NODE_CONFIG_DEFAULTS.items():
        cfg.setdefault(key, copy.deepcopy(value))
    # GKE answers the boot disk in both its legacy fields and `bootDisk` (sizeGb an int64)
    boot = cfg.setdefault("bootDisk", {})
    boot.setdefault("diskType", cfg["diskType"])
    boot["sizeGb"] = str(boot.get("sizeGb", cfg["diskSizeGb"]))
    cfg.setdefault("effectiveCgroupMode", "EFFECTIVE_CGROUP_MODE_V2")
    kubelet = cfg.setdefault("kubeletConfig", {})
    kubelet.setdefault("insecureKubeletReadonlyPortEnabled", False)
    kubelet.setdefault("maxParallelImagePulls", 2)
    cfg.setdefault("windowsNodeConfig", {})
    cfg.setdefault("loggingConfig", {"variantConfig": {"variant": "DEFAULT"}})
    cfg["metadata"] = {"disable-legacy-endpoints": "true", **cfg.get("metadata", {})}
    model = "spot" if cfg.get("spot") or cfg.get("preemptible") else "on-demand"
    labels = {**cfg.get("resourceLabels", {}), "goog-gke-node-pool-provisioning-model": model}
    cfg["resourceLabels"] = labels  # GKE injects this label on every node pool
    for accelerator in cfg.get("accelerators", []):
        accelerator["acceleratorCount"] = str(accelerator.get("acceleratorCount", "0"))
    return cfg


def cluster_autoscaling_defaults(autoscaling: Mapping[str, Any] | None) -> JSON:
    """Cluster autoscaling (NAP) with GKE's defaults: profile, NAP node pool defaults."""
    result = copy.deepcopy(dict(autoscaling or {}))
    result.setdefault("autoscalingProfile", "BALANCED")
    for limit in result.get("resourceLimits", []):
        for bound in ("minimum", "maximum"):
            if bound in limit:
                limit[bound] = str(limit[bound])
    nap = result.setdefault("autoprovisioningNodePoolDefaults", {})
    defaults = NAP_DEFAULTS if result.get("enableNodeAutoprovisioning") else NAP_OFF_DEFAULTS
    for key, value in defaults.items():
        nap.setdefault(key, copy.deepcopy(value))
    return result


def pool_autoscaling(autoscaling: Mapping[str, Any] | None) -> JSON:
    """Node pool autoscaling as reported: `{}` when disabled, BALANCED location policy."""
    if not autoscaling or not autoscaling.get("enabled"):
        return {}
    return {"locationPolicy": "BALANCED", **copy.deepcopy(dict(autoscaling))}


def node_count(cluster: Mapping[str, Any]) -> int:
    """Nodes across all pools: per-zone count times zones."""
    return sum(
        int(pool.get("initialNodeCount", 0)) * len(pool.get("locations", []))
        for pool in cluster.get("nodePools", [])
    )


def new_node_pool(
    cluster: Mapping[str, Any], body: Mapping[str, Any], *, now: str, host: str
) -> JSON:
    """The NodePool GKE stores for a CreateNodePool `nodePool` in an existing cluster."""
    pool = copy.deepcopy(dict(body))
    project, location, cluster_name = cluster_path(cluster)
    name = pool["name"]
    seed = digest(cluster.get("id", ""), name, now)
    pool["config"] = node_config_defaults(pool.get("config"))
    pool.setdefault("locations", list(cluster.get("locations", [])))
    master = cluster.get("currentMasterVersion")
    pool["version"] = resolve_version(pool.get("version"), "", master)
    pool["status"] = "PROVISIONING"
    pool["selfLink"] = f"{cluster_link(host, project, location, cluster_name)}/nodePools/{name}"
    pool["autoscaling"] = pool_autoscaling(pool.get("autoscaling"))
    per_zone_min = int(pool["autoscaling"].get("minNodeCount") or 0)
    if not pool.get("initialNodeCount") and per_zone_min:
        # GKE sizes an autoscaled pool created without a size at its per-zone minimum
        pool["initialNodeCount"] = per_zone_min
    pool.setdefault("management", {"autoRepair": True, "autoUpgrade": True})
    upgrade = pool.setdefault("upgradeSettings", {})
    if upgrade.setdefault("strategy", "SURGE") == "SURGE":
        upgrade.setdefault("maxSurge", 1)
    max_pods = int(
        pool.get("maxPodsConstraint", {}).get("maxPodsPerNode")
        or cluster.get("defaultMaxPodsConstraint", {}).get("maxPodsPerNode")
        or 110
    )
    pool["maxPodsConstraint"] = {"maxPodsPerNode": str(max_pods)}
    pool["podIpv4CidrSize"] = 32 - (2 * max_pods - 1).bit_length()
    pool["networkConfig"] = _pool_network(cluster, pool.get("networkConfig", {}))
    _fill_pool_utilization(pool)
    if version_at_least(pool["version"], (1, 34)):
        _fill_recent_pool_fields(pool, now)
    group = f"gke-{cluster_name[:14]}-{name[:16]}-{seed[:8]}-grp"
    pool["instanceGroupUrls"] = [
        f"{COMPUTE}/projects/{project}/zones/{zone}/instanceGroupManagers/{group}"
        for zone in pool["locations"]
    ]
    if not pool.get("initialNodeCount"):
        pool.pop("initialNodeCount", None)
    pool["etag"] = compute_etag(pool)
    return pool


def new_cluster(
    project: str,
    location: str,
    body: Mapping[str, Any],
    *,
    now: str,
    project_number: str,
    host: str,
    secondary_ranges: Mapping[str, str] | None = None,
) -> JSON:
    """The Cluster GKE stores for a CreateClusterRequest `cluster`, server defaults filled.

    `secondary_ranges` maps the subnetwork's secondary range names to CIDRs when known.
    """
    cluster = copy.deepcopy(dict(body))
    name = cluster["name"]
    seed = digest(project_number, location, name, now)
    channel = initial_channel(cluster)
    version = resolve_version(cluster.get("initialClusterVersion"), channel)
    cluster.update(
        id=seed,
        selfLink=cluster_link(host, project, location, name),
        zone=location,
        location=location,
        status="PROVISIONING",
        createTime=now,
        initialClusterVersion=version,
        currentMasterVersion=version,
        currentNodeVersion=version,
        releaseChannel={"channel": channel} if channel != "UNSPECIFIED" else {},
    )
    region = region_of(location)
    if not cluster.get("locations"):
        cluster["locations"] = (
            [location] if is_zonal(location) else [f"{region}-{z}" for z in "abc"]
        )
    _fill_network(cluster, project, region, seed, secondary_ranges or {})
    _fill_control_plane(cluster, seed, project_number)
    _fill_services(cluster)
    bodies = cluster.pop("nodePools", None) or [
        {
            "name": "default-pool",
            "initialNodeCount": cluster.get("initialNodeCount", 0),
            "config": cluster.get("nodeConfig", {}),
        }
    ]
    if not cluster.get("initialNodeCount"):
        cluster.pop("initialNodeCount", None)  # kept as asked, like GKE; absent with nodePools
    pools = [new_node_pool(cluster, pool, now=now, host=host) for pool in bodies]
    cluster["nodePools"] = pools
    cluster["nodeConfig"] = copy.deepcopy(pools[0]["config"])
    cluster["instanceGroupUrls"] = [url for pool in pools for url in pool["instanceGroupUrls"]]
    cluster["currentNodeCount"] = node_count(cluster)
    if version_at_least(str(cluster["currentMasterVersion"]), (1, 34)):
        cluster["networkConfig"].setdefault("defaultSnatStatus", {})
        shares = [p["networkConfig"].get("podIpv4RangeUtilization", 0) for p in pools]
        if sum(shares):
            cluster["ipAllocationPolicy"]["defaultPodIpv4RangeUtilization"] = round(sum(shares), 3)
    cluster["labelFingerprint"] = label_fingerprint(cluster.get("resourceLabels"))
    cluster["etag"] = compute_etag(cluster)
    return cluster


def _octet(seed: str, salt: str) -> int:
    return 4 * (1 + int(digest(seed, salt)[:4], 16) % 62)


def _cidr(block: str, seed: str, salt: str, prefix: int) -> str:
    """A concrete range for `""`, `/N` or an explicit CIDR."""
    if block and not block.startswith("/"):
        return block
    return f"10.{_octet(seed, salt)}.0.0/{block[1:] if block else prefix}"


def _fill_network(
    cluster: JSON, project: str, region: str, seed: str, ranges: Mapping[str, str]
) -> None:
    name = cluster["name"]
    network = str(cluster.get("network") or "default").rsplit("/", 1)[-1]
    subnetwork = str(cluster.get("subnetwork") or network).rsplit("/", 1)[-1]
    cluster["network"], cluster["subnetwork"] = network, subnetwork
    config = cluster.setdefault("networkConfig", {})
    config.setdefault("network", f"projects/{project}/global/networks/{network}")
    config.setdefault("subnetwork", f"projects/{project}/regions/{region}/subnetworks/{subnetwork}")
    config.setdefault("datapathProvider", "LEGACY_DATAPATH")
    config.setdefault("serviceExternalIpsConfig", {})
    policy = cluster.setdefault("ipAllocationPolicy", {})
    if policy.get("useRoutes"):
        pods = _cidr(cluster.get("clusterIpv4Cidr", ""), seed, "pods", 14)
        cluster["clusterIpv4Cidr"] = pods
        cluster["servicesIpv4Cidr"] = _cidr("", seed, "services", 20)
        return
    policy["useIpAliases"] = True
    policy.setdefault("stackType", "IPV4")
    policy.setdefault("podCidrOverprovisionConfig", {})
    if version_at_least(str(cluster.get("currentMasterVersion", "")), (1, 34)):
        policy.setdefault("networkTierConfig", {"networkTier": "NETWORK_TIER_DEFAULT"})
    if policy.get("clusterSecondaryRangeName"):
        pods = ranges.get(policy["clusterSecondaryRangeName"]) or _cidr("", seed, "pods", 14)
    else:
        block = policy.get("clusterIpv4CidrBlock") or policy.get("clusterIpv4Cidr") or ""
        pods = _cidr(block or cluster.get("clusterIpv4Cidr", ""), seed, "pods", 14)
        policy["clusterSecondaryRangeName"] = f"gke-{name}-pods-{seed[:8]}"
    if policy.get("servicesSecondaryRangeName"):
        services = ranges.get(policy["servicesSecondaryRangeName"]) or _cidr("", seed, "svc", 20)
    elif policy.get("servicesIpv4CidrBlock") or policy.get("servicesIpv4Cidr"):
        block = policy.get("servicesIpv4CidrBlock") or policy.get("servicesIpv4Cidr")
        services = _cidr(block, seed, "svc", 20)
        policy["servicesSecondaryRangeName"] = f"gke-{name}-services-{seed[:8]}"
    else:
        services = MANAGED_SERVICES_RANGE
    policy.update(clusterIpv4Cidr=pods, clusterIpv4CidrBlock=pods)
    policy.update(servicesIpv4Cidr=services, servicesIpv4CidrBlock=services)
    cluster.update(clusterIpv4Cidr=pods, servicesIpv4Cidr=services, nodeIpv4CidrSize=24)
    constraint = cluster.setdefault("defaultMaxPodsConstraint", {"maxPodsPerNode": "110"})
    constraint["maxPodsPerNode"] = str(constraint.get("maxPodsPerNode", 110))


def _fill_control_plane(cluster: JSON, seed: str, project_number: str) -> None:
    """Endpoints (both views), CA certificate, encryption and auth defaults."""
    access = requested_access(cluster)
    host = dns_endpoint(seed, project_number, str(cluster["location"]))
    render_access(cluster, access, host, creating=True)
    pem = base64.b64encode(bytes.fromhex(digest(seed, "ca") * 8)).decode()
    certificate = f"-----BEGIN CERTIFICATE-----\n{pem}\n-----END CERTIFICATE-----\n"
    auth = cluster.setdefault("masterAuth", {})
    auth.setdefault("clientCertificateConfig", {})
    auth["clusterCaCertificate"] = base64.b64encode(certificate.encode()).decode()
    encryption = cluster.setdefault("databaseEncryption", {})
    if encryption.get("state") == "ENCRYPTED" and encryption.get("keyName"):
        encryption["currentState"] = "CURRENT_STATE_ENCRYPTED"
    else:
        encryption.update(state="DECRYPTED", currentState="CURRENT_STATE_DECRYPTED")
    cluster.setdefault("legacyAbac", {})
    cluster.setdefault("shieldedNodes", {"enabled": True})


def _fill_services(cluster: JSON) -> None:
    """Logging, monitoring, add-ons, autoscaling and the other always-present blocks."""
    logging = cluster.setdefault("loggingService", "logging.googleapis.com/kubernetes")
    cluster.setdefault("monitoringService", "monitoring.googleapis.com/kubernetes")
    components = ["SYSTEM_COMPONENTS", "WORKLOADS"] if logging != "none" else []
    cluster.setdefault("loggingConfig", {"componentConfig": {"enableComponents": components}})
    monitoring = cluster.setdefault("monitoringConfig", {})
    monitoring.setdefault("componentConfig", {"enableComponents": ["SYSTEM_COMPONENTS"]})
    monitoring.setdefault("managedPrometheusConfig", {"enabled": True})
    cluster["addonsConfig"] = {**copy.deepcopy(ADDON_DEFAULTS), **cluster.get("addonsConfig", {})}
    cluster["autoscaling"] = cluster_autoscaling_defaults(cluster.get("autoscaling"))
    window = cluster.setdefault("maintenancePolicy", {})
    policy = {k: v for k, v in window.items() if k != "resourceVersion"}
    window["resourceVersion"] = digest(json.dumps(policy, sort_keys=True) if policy else "")[:8]
    cluster.setdefault("securityPostureConfig", {"mode": "BASIC"})
    cluster["securityPostureConfig"].setdefault("vulnerabilityMode", "VULNERABILITY_DISABLED")
    variant = {"loggingConfig": {"variantConfig": {"variant": "DEFAULT"}}}
    defaults = cluster.setdefault("nodePoolDefaults", {}).setdefault("nodeConfigDefaults", {})
    for key, value in variant.items():
        defaults.setdefault(key, copy.deepcopy(value))
    readonly_port = {"insecureKubeletReadonlyPortEnabled": False}
    defaults.setdefault("nodeKubeletConfig", dict(readonly_port))
    auto_config = cluster.setdefault("nodePoolAutoConfig", {})
    auto_config.setdefault("nodeKubeletConfig", dict(readonly_port))
    monitoring.setdefault("advancedDatapathObservabilityConfig", {})
    cluster.setdefault("anonymousAuthenticationConfig", {"mode": "ENABLED"})
    cluster.setdefault("enterpriseConfig", {"clusterTier": "STANDARD"})
    cluster.setdefault("podAutoscaling", {"hpaProfile": "PERFORMANCE"})
    cluster.setdefault("userManagedKeysConfig", {})
    cluster.setdefault(
        "rbacBindingConfig",
        {
            "enableInsecureBindingSystemAuthenticated": True,
            "enableInsecureBindingSystemUnauthenticated": True,
        },
    )
    if version_at_least(str(cluster.get("currentMasterVersion", "")), (1, 34)):
        cluster.setdefault("controlPlaneEgress", {"mode": "VIA_CONTROL_PLANE"})


def _fill_recent_pool_fields(pool: JSON, now: str) -> None:
    """What GKE 1.34 and later also report of a node pool: the node image it resolved (COS
    images only), the network tier, and when the kubelet's TPM bootstrap certificate expires
    (five years on)."""
    config = pool["config"]
    if config.get("imageType") == "COS_CONTAINERD":
        major_minor_patch, _, build = str(pool["version"]).partition("-gke.")
        release = major_minor_patch.replace(".", "")
        config.setdefault(
            "nodeImageConfig",
            {
                "image": f"gke-{release}-gke{build}-cos-125-19216-395-109-c-pre",
                "imageProject": "gke-node-images",
            },
        )
    pool["networkConfig"].setdefault("networkTierConfig", {"networkTier": "NETWORK_TIER_DEFAULT"})
    expires = f"{int(now[:4]) + 5}{now[4:19]}Z"
    pool.setdefault("kubeletCertInfo", {"tpmBootstrapCertExpireTime": expires})


def _fill_pool_utilization(pool: JSON) -> None:
    """The share of the pod range the pool's nodes hold (per-node ranges × nodes), as GKE
    reports it in `networkConfig.podIpv4RangeUtilization` (absent, i.e. 0, without nodes)."""
    config = pool["networkConfig"]
    block = str(config.get("podIpv4CidrBlock") or "")
    nodes = int(pool.get("initialNodeCount", 0)) * len(pool.get("locations", []))
    if "/" not in block or not nodes:
        return
    held = nodes * 2 ** (32 - int(pool["podIpv4CidrSize"]))
    config["podIpv4RangeUtilization"] = round(held / 2 ** (32 - int(block.split("/")[1])), 3)


def _pool_network(cluster: Mapping[str, Any], given: Mapping[str, Any]) -> JSON:
    config = copy.deepcopy(dict(given))
    subnetwork = (cluster.get("networkConfig") or {}).get("subnetwork")
    if subnetwork:
        config.setdefault("subnetwork", subnetwork)
    policy = cluster.get("ipAllocationPolicy", {})
    if policy.get("useIpAliases") and "podRange" not in config:
        config["podRange"] = policy.get("clusterSecondaryRangeName", "")
        config["podIpv4CidrBlock"] = cluster.get("clusterIpv4Cidr", "")
    if (cluster.get("networkConfig") or {}).get("defaultEnablePrivateNodes"):
        config.setdefault("enablePrivateNodes", True)
    return config
