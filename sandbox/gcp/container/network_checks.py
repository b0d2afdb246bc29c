"""What GKE checks against Compute Engine before creating a cluster or node pool: the network,
the subnetwork and its secondary ranges, and specific reservations, read from the sandbox's
Compute state. Messages follow GKE's (`Project "p" has no network named "default".`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.errors import ApiError, invalid_argument
from sandbox.gcp.compute.common import ROOT, visible
from sandbox.gcp.compute.stored import NETWORKS, RESERVATIONS, SUBNETWORKS
from sandbox.gcp.container.naming import region_of
from sandbox.runtime import Runtime

RESERVATION_KEY = "compute.googleapis.com/reservation-name"


def _bad(message: str) -> ApiError:
    return invalid_argument(message)


def _owner_and_name(ref: str, project_id: str, kind: str) -> tuple[str, str]:
    """(project, name) of `n`, `projects/P/global/networks/n` or a full URL."""
    parts = ref.split("/")
    if "projects" in parts and kind in parts:
        return parts[parts.index("projects") + 1], parts[-1]
    return project_id, parts[-1]


def cluster_subnet_ranges(
    rt: Runtime, project_id: str, location: str, cluster: Mapping[str, Any]
) -> dict[str, str]:
    """Check a CreateCluster `cluster` against Compute; the subnetwork's secondary ranges
    (name → CIDR) for `new_cluster`. Raises 400 as GKE does."""
    config = cluster.get("networkConfig") or {}
    net_ref = str(cluster.get("network") or config.get("network") or "default")
    net_project, net_name = _owner_and_name(net_ref, project_id, "networks")
    network = rt.store.get(NETWORKS, f"{net_project}/{net_name}")
    if not visible(network):
        raise _bad(f'Project "{net_project}" has no network named "{net_name}".')
    assert network is not None
    region = region_of(location)
    sub_ref = str(cluster.get("subnetwork") or config.get("subnetwork") or "")
    if not sub_ref:
        if not network.get("autoCreateSubnetworks"):
            raise _bad(
                f'Network "{net_name}" uses manual subnet mode and requires specifying a '
                "subnetwork."
            )
        sub_ref = net_name
    sub_project, sub_name = _owner_and_name(sub_ref, net_project, "subnetworks")
    subnet = rt.store.get(SUBNETWORKS, f"{sub_project}/{region}/{sub_name}")
    if not visible(subnet):
        raise _bad(f'Subnetwork "{sub_name}" does not exist in region "{region}".')
    assert subnet is not None
    network_link = f"{ROOT}projects/{net_project}/global/networks/{net_name}"
    if subnet.get("network") != network_link:
        raise _bad(f'Subnetwork "{sub_name}" is not in network "{net_name}".')
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in subnet.get("secondaryIpRanges", [])}
    policy = cluster.get("ipAllocationPolicy") or {}
    for field, what in (
        ("clusterSecondaryRangeName", "Pod"),
        ("servicesSecondaryRangeName", "Services"),
    ):
        wanted = policy.get(field)
        if wanted and wanted not in ranges:
            raise _bad(
                f'{what} secondary range "{wanted}" not found in network "{network_link}", '
                f'subnetwork "{sub_name}".'
            )
    for pool in cluster.get("nodePools") or []:
        check_pod_range(pool, ranges, network_link, sub_name)
    return ranges


def pool_subnet_ranges(rt: Runtime, cluster: Mapping[str, Any]) -> tuple[dict[str, str], str, str]:
    """(secondary ranges, network link, subnetwork name) of an existing cluster's subnetwork."""
    config = cluster.get("networkConfig") or {}
    sub_path = str(config.get("subnetwork", ""))  # projects/P/regions/R/subnetworks/S
    parts = sub_path.split("/")
    subnet = (
        rt.store.get(SUBNETWORKS, f"{parts[1]}/{parts[3]}/{parts[5]}") if len(parts) == 6 else None
    )
    ranges = {r["rangeName"]: r["ipCidrRange"] for r in (subnet or {}).get("secondaryIpRanges", [])}
    return ranges, f"{ROOT}{config.get('network', '')}", parts[-1]


def check_pod_range(
    pool: Mapping[str, Any], ranges: Mapping[str, str], network_link: str, subnet: str
) -> None:
    """A node pool's own pod range (not created by GKE) must be a secondary range."""
    config = pool.get("networkConfig") or {}
    wanted = config.get("podRange")
    if wanted and not config.get("createPodRange") and wanted not in ranges:
        raise _bad(
            f'Pod secondary range "{wanted}" not found in network "{network_link}", '
            f'subnetwork "{subnet}".'
        )


def check_reservation(
    rt: Runtime, project_id: str, pool: Mapping[str, Any], zones: list[str]
) -> None:
    """A SPECIFIC_RESERVATION affinity must name a reservation in one of the pool's zones."""
    affinity = (pool.get("config") or {}).get("reservationAffinity") or {}
    if affinity.get("consumeReservationType") != "SPECIFIC_RESERVATION":
        return
    if affinity.get("key") != RESERVATION_KEY:
        return
    for value in affinity.get("values", []):
        owner, name = _owner_and_name(str(value), project_id, "reservations")
        if not any(visible(rt.store.get(RESERVATIONS, f"{owner}/{z}/{name}")) for z in zones):
            raise _bad(
                f'Reservation "{value}" does not exist in project "{owner}" in any of the '
                f"node pool's zones ({', '.join(zones)})."
            )
