"""ClusterUpdate fields that set one field of the stored cluster, by path (Container v1).

`gcloud container clusters update` sends most of its flags this way (`--hpa-profile` →
`desiredPodAutoscaling`, `--in-transit-encryption` → `desiredInTransitEncryptionConfig`,
`--autoprovisioning-network-tags` → `desiredNodePoolAutoConfigNetworkTags`, …). GKE stores each
where a created cluster reports it; a boolean set to false is absent from its answers, as
proto3 JSON leaves defaults out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sandbox.gcp.container.naming import JSON

_DEFAULTS = "nodePoolDefaults.nodeConfigDefaults."
# ClusterUpdate field → dotted path of the Cluster field it replaces.
FIELD_PATHS: dict[str, str] = {
    "desiredAnonymousAuthenticationConfig": "anonymousAuthenticationConfig",
    "desiredAuthenticatorGroupsConfig": "authenticatorGroupsConfig",
    "desiredCompliancePostureConfig": "compliancePostureConfig",
    "desiredControlPlaneEgress": "controlPlaneEgress",
    "desiredManagedMachineLearningDiagnosticsConfig": "managedMachineLearningDiagnosticsConfig",
    "desiredManagedOpentelemetryConfig": "managedOpentelemetryConfig",
    "desiredMeshCertificates": "meshCertificates",
    "desiredNodeCreationConfig": "nodeCreationConfig",
    "desiredParentProductConfig": "parentProductConfig",
    "desiredPodAutoscaling": "podAutoscaling",
    "desiredRbacBindingConfig": "rbacBindingConfig",
    "desiredRollbackSafeUpgrade": "rollbackSafeUpgrade",
    "desiredSecretManagerConfig": "secretManagerConfig",
    "desiredSecretSyncConfig": "secretSyncConfig",
    "desiredUserManagedKeysConfig": "userManagedKeysConfig",
    "userManagedKeysConfig": "userManagedKeysConfig",
    "desiredK8sBetaApis": "enableK8sBetaApis",
    "enableK8sBetaApis": "enableK8sBetaApis",
    "gkeAutoUpgradeConfig": "gkeAutoUpgradeConfig",
    "desiredAmbientNetworkingConfig": "networkConfig.ambientNetworkingConfig",
    "desiredDefaultSnatStatus": "networkConfig.defaultSnatStatus",
    "desiredDisableL4LbFirewallReconciliation": "networkConfig.disableL4LbFirewallReconciliation",
    "desiredDnsConfig": "networkConfig.dnsConfig",
    "desiredEnableCiliumClusterwideNetworkPolicy": (
        "networkConfig.enableCiliumClusterwideNetworkPolicy"
    ),
    "desiredEnableFqdnNetworkPolicy": "networkConfig.enableFqdnNetworkPolicy",
    "desiredEnableMultiNetworking": "networkConfig.enableMultiNetworking",
    "desiredGatewayApiConfig": "networkConfig.gatewayApiConfig",
    "desiredInTransitEncryptionConfig": "networkConfig.inTransitEncryptionConfig",
    "desiredNetworkPerformanceConfig": "networkConfig.networkPerformanceConfig",
    "desiredPrivateIpv6GoogleAccess": "networkConfig.privateIpv6GoogleAccess",
    "desiredServiceExternalIpsConfig": "networkConfig.serviceExternalIpsConfig",
    "desiredAutoIpamConfig": "ipAllocationPolicy.autoIpamConfig",
    "desiredNetworkTierConfig": "ipAllocationPolicy.networkTierConfig",
    "desiredNodePoolAutoConfigNetworkTags": "nodePoolAutoConfig.networkTags",
    "desiredNodePoolAutoConfigResourceManagerTags": "nodePoolAutoConfig.resourceManagerTags",
    "desiredNodePoolAutoConfigKubeletConfig": "nodePoolAutoConfig.nodeKubeletConfig",
    "desiredNodePoolAutoConfigLinuxNodeConfig": "nodePoolAutoConfig.linuxNodeConfig",
    "desiredNodeKubeletConfig": _DEFAULTS + "nodeKubeletConfig",
    "desiredNodePoolLoggingConfig": _DEFAULTS + "loggingConfig",
    "desiredContainerdConfig": _DEFAULTS + "containerdConfig",
    "desiredGcfsConfig": _DEFAULTS + "gcfsConfig",
}


def apply_field_update(cluster: JSON, key: str, value: Any) -> bool:
    """Apply ClusterUpdate `key` if it is one of the fields handled here; False otherwise."""
    if key in FIELD_PATHS:
        _put(cluster, FIELD_PATHS[key], value)
    elif key == "desiredIntraNodeVisibilityConfig":
        _put(cluster, "networkConfig.enableIntraNodeVisibility", bool(value.get("enabled")))
    elif key == "desiredL4ilbSubsettingConfig":
        _put(cluster, "networkConfig.enableL4ilbSubsetting", bool(value.get("enabled")))
    elif key == "desiredEnterpriseConfig":
        _put(cluster, "enterpriseConfig.clusterTier", value.get("desiredTier", "STANDARD"))
    elif key == "desiredAdditionalIpRangesConfig":
        configs = value.get("additionalIpRangesConfigs") or []
        _put(cluster, "ipAllocationPolicy.additionalIpRangesConfigs", configs)
    elif key in ("additionalPodRangesConfig", "removedAdditionalPodRangesConfig"):
        _pod_ranges(cluster, value, add=key == "additionalPodRangesConfig")
    else:
        return False
    return True


def _put(cluster: JSON, path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    node = cluster
    for part in parents:
        node = node.setdefault(part, {})
    if value is False or value in ([], None):
        node.pop(leaf, None)
    else:
        node[leaf] = copy.deepcopy(value)


def _pod_ranges(cluster: JSON, value: Mapping[str, Any], *, add: bool) -> None:
    policy = cluster.setdefault("ipAllocationPolicy", {})
    current = list((policy.get("additionalPodRangesConfig") or {}).get("podRangeNames", []))
    names = [str(n) for n in value.get("podRangeNames", [])]
    ranges = (
        current + [n for n in names if n not in current]
        if add
        else [n for n in current if n not in names]
    )
    if ranges:
        policy["additionalPodRangesConfig"] = {"podRangeNames": ranges}
    else:
        policy.pop("additionalPodRangesConfig", None)
