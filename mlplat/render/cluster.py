"""The private GKE cluster and its node pools, with the seed's defects fixed: Dataplane V2 (so
NetworkPolicy is enforced), shielded nodes, a minimal node service account, real Spot pools."""

from __future__ import annotations

from typing import Any

from mlplat.render.desired import Desired, ownership_labels
from mlplat.specs import Environment, NodePool, Platform, naming
from mlplat.specs.models import Provisioning

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
SYSTEM_POOL = "system"
RESERVATION_KEY = "compute.googleapis.com/reservation-name"


def _node_identity(platform: Platform, env: Environment, project: str) -> dict[str, Any]:
    account = naming.node_service_account_id(platform, env)
    return {
        "serviceAccount": naming.service_account_email(account, project),
        "oauthScopes": [CLOUD_PLATFORM_SCOPE],
        "shieldedInstanceConfig": {"enableSecureBoot": True, "enableIntegrityMonitoring": True},
    }


def cluster(platform: Platform, env: Environment, project: str) -> Desired:
    """The cluster; its system pool is sent only at creation and planned as a node pool."""
    net = env.network
    region = naming.region(platform, env)
    limits: list[dict[str, Any]] = [
        {
            "resourceType": "cpu",
            "minimum": env.cluster.autoprovisioning.cpu.min,
            "maximum": env.cluster.autoprovisioning.cpu.max,
        },
        {
            "resourceType": "memory",
            "minimum": env.cluster.autoprovisioning.memory_gb.min,
            "maximum": env.cluster.autoprovisioning.memory_gb.max,
        },
    ]
    limits += [
        {"resourceType": gpu, "maximum": count}
        for gpu, count in sorted(env.cluster.autoprovisioning.gpus.items())
    ]
    body: dict[str, Any] = {
        "name": naming.cluster_name(platform, env),
        "location": region,
        "locations": list(naming.zones(platform, env)),
        "network": naming.network_name(platform, env),
        "subnetwork": naming.subnet_name(platform, env),
        "resourceLabels": {
            **platform.labels,
            **env.cluster.labels,
            **ownership_labels(platform.name, env.name),
        },
        "releaseChannel": {"channel": env.cluster.release_channel.value},
        # Network isolation: private nodes, no public IP endpoint, the DNS endpoint. The master
        # range has no new-field equivalent: it stays in privateClusterConfig (not deprecated).
        "privateClusterConfig": {"masterIpv4CidrBlock": net.master_cidr},
        "controlPlaneEndpointsConfig": {
            "ipEndpointsConfig": {
                "enabled": True,
                "enablePublicEndpoint": False,
                "authorizedNetworksConfig": {
                    "enabled": True,
                    "cidrBlocks": [
                        {"displayName": n.name, "cidrBlock": n.cidr}
                        for n in net.authorized_networks
                    ],
                },
            },
            "dnsEndpointConfig": {"allowExternalTraffic": env.cluster.dns_endpoint},
        },
        "ipAllocationPolicy": {
            "useIpAliases": True,
            "clusterSecondaryRangeName": naming.PODS_RANGE,
            "servicesSecondaryRangeName": naming.SERVICES_RANGE,
        },
        "networkConfig": {
            "datapathProvider": "ADVANCED_DATAPATH",
            "defaultEnablePrivateNodes": True,
        },
        "workloadIdentityConfig": {"workloadPool": naming.workload_pool(project)},
        "shieldedNodes": {"enabled": True},
        "addonsConfig": {
            "gcePersistentDiskCsiDriverConfig": {"enabled": True},
            "gcpFilestoreCsiDriverConfig": {"enabled": True},
            "gcsFuseCsiDriverConfig": {"enabled": True},
            "rayOperatorConfig": _ray_operator(env),
        },
        "autoscaling": {
            "enableNodeAutoprovisioning": env.cluster.autoprovisioning.enabled,
            "autoscalingProfile": "OPTIMIZE_UTILIZATION",
            "resourceLimits": limits if env.cluster.autoprovisioning.enabled else [],
            "autoprovisioningNodePoolDefaults": {
                **_node_identity(platform, env, project),
                "management": {"autoUpgrade": True, "autoRepair": True},
            },
        },
    }
    extra: dict[str, Any] = {"nodePools": [system_pool(platform, env, project).create_body()]}
    if env.cluster.min_master_version:
        extra["initialClusterVersion"] = env.cluster.min_master_version
    return Desired(
        kind="gke/cluster",
        name=naming.cluster_name(platform, env),
        body=body,
        create_extra=extra,
    )


def _ray_operator(env: Environment) -> dict[str, Any]:
    """GKE's Ray operator add-on (KubeRay and its CRDs, managed by GKE)."""
    ray = env.cluster.ray_operator
    return {
        "enabled": ray.enabled,
        "rayClusterLoggingConfig": {"enabled": ray.enabled and ray.logging},
        "rayClusterMonitoringConfig": {"enabled": ray.enabled and ray.monitoring},
    }


def system_pool(platform: Platform, env: Environment, project: str) -> Desired:
    """The pool for system workloads (Config Sync, operators), one small node per zone."""
    pool = env.cluster.system_pool
    return Desired(
        kind="gke/node-pool",
        name=SYSTEM_POOL,
        body={
            "name": SYSTEM_POOL,
            "config": {
                "machineType": pool.machine_type,
                **_node_identity(platform, env, project),
                "workloadMetadataConfig": {"mode": "GKE_METADATA"},
                "resourceLabels": ownership_labels(platform.name, env.name),
            },
            "management": {"autoRepair": True, "autoUpgrade": True},
        },
        create_extra={"initialNodeCount": pool.nodes_per_zone},
    )


def node_pools(platform: Platform, env: Environment, project: str) -> tuple[Desired, ...]:
    """The environment's declared node pools (GPU pools: reservation, on-demand, Spot)."""
    return tuple(_node_pool(platform, env, project, pool) for pool in env.node_pools)


def every_pool(platform: Platform, env: Environment, project: str) -> tuple[Desired, ...]:
    """The system pool, then the declared ones: every node pool mlplat keeps in the cluster."""
    return (system_pool(platform, env, project), *node_pools(platform, env, project))


def _node_pool(platform: Platform, env: Environment, project: str, pool: NodePool) -> Desired:
    config: dict[str, Any] = {
        "machineType": pool.machine_type,
        **_node_identity(platform, env, project),
        "workloadMetadataConfig": {"mode": "GKE_METADATA"},
        "labels": dict(pool.labels),
        "resourceLabels": ownership_labels(platform.name, env.name),
        "taints": [{"key": t.key, "value": t.value, "effect": t.effect.value} for t in pool.taints],
    }
    if pool.gpu is not None:
        config["accelerators"] = [
            {
                "acceleratorType": pool.gpu.type,
                "acceleratorCount": pool.gpu.count,
                "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"},
            }
        ]
    if pool.provisioning is Provisioning.SPOT:
        config["spot"] = True
    if pool.provisioning is Provisioning.RESERVATION:
        config["reservationAffinity"] = {
            "consumeReservationType": "SPECIFIC_RESERVATION",
            "key": RESERVATION_KEY,
            "values": [naming.reservation_name(platform, env, pool)],
        }
    return Desired(
        kind="gke/node-pool",
        name=pool.name,
        body={
            "name": pool.name,
            "config": config,
            "autoscaling": {
                "enabled": True,
                "totalMinNodeCount": pool.autoscaling.min,
                "totalMaxNodeCount": pool.autoscaling.max,
                "locationPolicy": "ANY",
            },
            "management": {"autoRepair": True, "autoUpgrade": True},
        },
        create_extra={"initialNodeCount": 0},
    )
