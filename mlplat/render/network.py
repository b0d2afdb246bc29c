"""VPC, subnet with secondary ranges and private Google access, Cloud Router with NAT,
and the GPU reservations of reservation pools. Compute resources carry no labels, so ownership
is written in their description."""

from __future__ import annotations

from mlplat.render.desired import Desired
from mlplat.specs import Environment, NodePool, Platform, naming
from mlplat.specs.models import Provisioning

OWNERSHIP_NOTE = "managed-by=mlplat platform={platform}"


def description(platform: Platform) -> str:
    """The ownership note stored in a Compute resource's description."""
    return OWNERSHIP_NOTE.format(platform=platform.name)


def network(platform: Platform, env: Environment) -> Desired:
    return Desired(
        kind="compute/network",
        name=naming.network_name(platform, env),
        body={
            "name": naming.network_name(platform, env),
            "autoCreateSubnetworks": False,
            "routingConfig": {"routingMode": "GLOBAL"},
            "description": description(platform),
        },
    )


def subnet(platform: Platform, env: Environment, project: str) -> Desired:
    net = env.network
    return Desired(
        kind="compute/subnetwork",
        name=naming.subnet_name(platform, env),
        body={
            "name": naming.subnet_name(platform, env),
            "network": _network_link(project, naming.network_name(platform, env)),
            "ipCidrRange": net.subnet_cidr,
            "privateIpGoogleAccess": True,
            "secondaryIpRanges": [
                {"rangeName": naming.PODS_RANGE, "ipCidrRange": net.pods_cidr},
                {"rangeName": naming.SERVICES_RANGE, "ipCidrRange": net.services_cidr},
            ],
            "description": description(platform),
        },
    )


def router(platform: Platform, env: Environment, project: str) -> Desired:
    """Cloud Router with NAT, so private nodes reach GitHub and public registries."""
    return Desired(
        kind="compute/router",
        name=naming.router_name(platform, env),
        body={
            "name": naming.router_name(platform, env),
            "network": _network_link(project, naming.network_name(platform, env)),
            "description": description(platform),
            "bgp": {"asn": 64514, "keepaliveInterval": 20},
            "nats": [
                {
                    "name": naming.nat_name(platform, env),
                    "natIpAllocateOption": "AUTO_ONLY",
                    "sourceSubnetworkIpRangesToNat": "ALL_SUBNETWORKS_ALL_IP_RANGES",
                    "minPortsPerVm": 64,
                    "logConfig": {"enable": True, "filter": "ERRORS_ONLY"},
                }
            ],
        },
    )


def reservations(platform: Platform, env: Environment) -> tuple[Desired, ...]:
    """A specific reservation per reservation pool, in the first zone of the cluster."""
    return tuple(
        _reservation(platform, env, pool)
        for pool in env.node_pools
        if pool.provisioning is Provisioning.RESERVATION
    )


def reservation_zone(platform: Platform, env: Environment) -> str:
    return naming.zones(platform, env)[0]


def _reservation(platform: Platform, env: Environment, pool: NodePool) -> Desired:
    instance: dict[str, object] = {"machineType": pool.machine_type}
    if pool.gpu is not None:
        instance["guestAccelerators"] = [
            {"acceleratorType": pool.gpu.type, "acceleratorCount": pool.gpu.count}
        ]
    return Desired(
        kind="compute/reservation",
        name=naming.reservation_name(platform, env, pool),
        body={
            "name": naming.reservation_name(platform, env, pool),
            "description": description(platform),
            "specificReservationRequired": True,
            "specificReservation": {"count": pool.reserved_nodes, "instanceProperties": instance},
        },
    )


def _network_link(project: str, name: str) -> str:
    return f"projects/{project}/global/networks/{name}"
