"""Compute Engine v1 subset through the official client: networks, subnetworks, routers with
Cloud NAT, reservations, and their operations."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import billing_v1, compute_v1

from tests.sandbox.conftest import Clients

REGION = "us-central1"
ZONE = "us-central1-a"
DONE = compute_v1.Operation.Status.DONE


def _network(clients: Clients, project: str, name: str = "vpc") -> compute_v1.Network:
    networks = clients.compute(compute_v1.NetworksClient)
    operation = networks.insert(
        project=project,
        network_resource=compute_v1.Network(
            name=name, auto_create_subnetworks=False, routing_config={"routing_mode": "REGIONAL"}
        ),
    )
    assert clients.wait(operation, project).status == DONE
    return networks.get(project=project, network=name)


def _subnet(clients: Clients, project: str, name: str, cidr: str, **fields: object) -> object:
    subnets = clients.compute(compute_v1.SubnetworksClient)
    operation = subnets.insert(
        project=project,
        region=REGION,
        subnetwork_resource=compute_v1.Subnetwork(
            name=name, network="global/networks/vpc", ip_cidr_range=cidr, **fields
        ),
    )
    return clients.wait(operation, project, region=REGION)


def test_network_round_trip(clients: Clients, compute_project: str) -> None:
    networks = clients.compute(compute_v1.NetworksClient)
    operation = networks.insert(
        project=compute_project,
        network_resource=compute_v1.Network(name="vpc", auto_create_subnetworks=False),
    )
    assert operation.status != DONE  # instant mode: done at the next read
    done = clients.wait(operation, compute_project)
    assert (done.status, done.operation_type, done.progress) == (DONE, "insert", 100)
    assert done.target_link.endswith(f"/compute/v1/projects/{compute_project}/global/networks/vpc")
    assert done.target_link.startswith(clients.sandbox.url("compute"))  # links use our host
    ops = clients.compute(compute_v1.GlobalOperationsClient)
    assert ops.get(project=compute_project, operation=operation.name).status == DONE

    network = networks.get(project=compute_project, network="vpc")
    assert (network.kind, network.name, network.auto_create_subnetworks) == (
        "compute#network",
        "vpc",
        False,
    )
    assert network.id > 0 and network.creation_timestamp
    assert network.routing_config.routing_mode == "REGIONAL"
    assert [n.name for n in networks.list(project=compute_project)] == ["vpc"]

    with pytest.raises(exceptions.Conflict, match="already exists"):
        networks.insert(
            project=compute_project,
            network_resource=compute_v1.Network(name="vpc", auto_create_subnetworks=False),
        )
    patched = networks.patch(
        project=compute_project,
        network="vpc",
        network_resource=compute_v1.Network(routing_config={"routing_mode": "GLOBAL"}),
    )
    clients.wait(patched, compute_project)
    assert networks.get(project=compute_project, network="vpc").routing_config.routing_mode == (
        "GLOBAL"
    )
    clients.wait(networks.delete(project=compute_project, network="vpc"), compute_project)
    with pytest.raises(exceptions.NotFound):
        networks.get(project=compute_project, network="vpc")


def test_subnetwork_round_trip(clients: Clients, compute_project: str) -> None:
    _network(clients, compute_project)
    done = _subnet(
        clients,
        compute_project,
        "nodes",
        "10.0.0.0/20",
        private_ip_google_access=True,
        secondary_ip_ranges=[
            compute_v1.SubnetworkSecondaryRange(range_name="pods", ip_cidr_range="10.4.0.0/14"),
            compute_v1.SubnetworkSecondaryRange(range_name="services", ip_cidr_range="10.8.0.0/20"),
        ],
    )
    assert done.status == DONE  # type: ignore[attr-defined]
    subnets = clients.compute(compute_v1.SubnetworksClient)
    subnet = subnets.get(project=compute_project, region=REGION, subnetwork="nodes")
    assert subnet.private_ip_google_access is True
    assert subnet.gateway_address == "10.0.0.1"
    assert [(r.range_name, r.ip_cidr_range) for r in subnet.secondary_ip_ranges] == [
        ("pods", "10.4.0.0/14"),
        ("services", "10.8.0.0/20"),
    ]
    assert subnet.network.endswith(f"/projects/{compute_project}/global/networks/vpc")
    network = clients.compute(compute_v1.NetworksClient).get(project=compute_project, network="vpc")
    assert list(network.subnetworks) == [subnet.self_link]

    # Overlapping ranges in one network are refused.
    with pytest.raises(exceptions.BadRequest, match="conflicts with existing subnetwork 'nodes'"):
        _subnet(clients, compute_project, "other", "10.5.0.0/16")

    # PATCH needs the current fingerprint; a stale one is a 412.
    changed = compute_v1.Subnetwork(
        fingerprint=subnet.fingerprint,
        secondary_ip_ranges=[
            compute_v1.SubnetworkSecondaryRange(range_name="pods", ip_cidr_range="10.4.0.0/14")
        ],
    )
    operation = subnets.patch(
        project=compute_project, region=REGION, subnetwork="nodes", subnetwork_resource=changed
    )
    clients.wait(operation, compute_project, region=REGION)
    after = subnets.get(project=compute_project, region=REGION, subnetwork="nodes")
    assert [r.range_name for r in after.secondary_ip_ranges] == ["pods"]
    assert after.fingerprint != subnet.fingerprint
    with pytest.raises(exceptions.PreconditionFailed):
        subnets.patch(
            project=compute_project, region=REGION, subnetwork="nodes", subnetwork_resource=changed
        )

    aggregated = clients.compute(compute_v1.SubnetworksClient).aggregated_list(
        project=compute_project
    )
    scopes = {scope: [s.name for s in item.subnetworks] for scope, item in aggregated}
    assert scopes == {f"regions/{REGION}": ["nodes"]}

    # A network with subnetworks cannot be deleted: Compute fails the delete's operation.
    networks = clients.compute(compute_v1.NetworksClient)
    done = clients.wait(networks.delete(project=compute_project, network="vpc"), compute_project)
    assert [e.code for e in done.error.errors] == ["RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"]
    assert "already being used" in done.error.errors[0].message
    assert networks.get(project=compute_project, network="vpc").name == "vpc"


def test_router_with_nat_round_trip(clients: Clients, compute_project: str) -> None:
    _network(clients, compute_project)
    _subnet(clients, compute_project, "nodes", "10.0.0.0/20")
    routers = clients.compute(compute_v1.RoutersClient)
    operation = routers.insert(
        project=compute_project,
        region=REGION,
        router_resource=compute_v1.Router(name="router", network="global/networks/vpc"),
    )
    clients.wait(operation, compute_project, region=REGION)
    router = routers.get(project=compute_project, region=REGION, router="router")
    assert list(router.nats) == []

    nat = compute_v1.RouterNat(
        name="nat",
        nat_ip_allocate_option="AUTO_ONLY",
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[
            compute_v1.RouterNatSubnetworkToNat(
                name=f"projects/{compute_project}/regions/{REGION}/subnetworks/nodes",
                source_ip_ranges_to_nat=["ALL_IP_RANGES"],
            )
        ],
    )
    operation = routers.patch(
        project=compute_project,
        region=REGION,
        router="router",
        router_resource=compute_v1.Router(nats=[nat]),
    )
    assert clients.wait(operation, compute_project, region=REGION).operation_type == "patch"
    router = routers.get(project=compute_project, region=REGION, router="router")
    assert [n.name for n in router.nats] == ["nat"]
    assert router.nats[0].subnetworks[0].name.endswith(f"/regions/{REGION}/subnetworks/nodes")
    assert [r.name for r in routers.list(project=compute_project, region=REGION)] == ["router"]

    # The NAT uses the subnetwork: it cannot go first (the delete's operation fails).
    subnets = clients.compute(compute_v1.SubnetworksClient)
    operation = subnets.delete(project=compute_project, region=REGION, subnetwork="nodes")
    done = clients.wait(operation, compute_project, region=REGION)
    assert [e.code for e in done.error.errors] == ["RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"]
    with pytest.raises(exceptions.BadRequest, match="sourceSubnetworkIpRangesToNat"):
        routers.patch(
            project=compute_project,
            region=REGION,
            router="router",
            router_resource=compute_v1.Router(nats=[compute_v1.RouterNat(name="bad")]),
        )
    clients.wait(
        routers.delete(project=compute_project, region=REGION, router="router"),
        compute_project,
        region=REGION,
    )
    assert list(routers.list(project=compute_project, region=REGION)) == []


def test_reservation_round_trip(clients: Clients, compute_project: str) -> None:
    reservations = clients.compute(compute_v1.ReservationsClient)
    operation = reservations.insert(
        project=compute_project,
        zone=ZONE,
        reservation_resource=compute_v1.Reservation(
            name="gpus",
            specific_reservation_required=True,
            specific_reservation=compute_v1.AllocationSpecificSKUReservation(
                count=2,
                instance_properties=compute_v1.AllocationSpecificSKUAllocationReservedInstanceProperties(
                    machine_type="g2-standard-24",
                    guest_accelerators=[
                        compute_v1.AcceleratorConfig(
                            accelerator_type="nvidia-l4", accelerator_count=2
                        )
                    ],
                ),
            ),
        ),
    )
    done = clients.wait(operation, compute_project, zone=ZONE)
    assert done.status == DONE and done.zone.endswith(f"/zones/{ZONE}")
    reservation = reservations.get(project=compute_project, zone=ZONE, reservation="gpus")
    assert (reservation.status, reservation.specific_reservation.count) == ("READY", 2)
    assert reservation.specific_reservation.in_use_count == 0
    assert [r.name for r in reservations.list(project=compute_project, zone=ZONE)] == ["gpus"]
    clients.wait(
        reservations.delete(project=compute_project, zone=ZONE, reservation="gpus"),
        compute_project,
        zone=ZONE,
    )
    with pytest.raises(exceptions.NotFound):
        reservations.get(project=compute_project, zone=ZONE, reservation="gpus")


def test_stockout_fails_the_operation_and_creates_nothing(
    clients: Clients, compute_project: str
) -> None:
    clients.admin(
        "PUT",
        "/faults",
        {
            "rules": [
                {
                    "method": "compute.reservations.insert",
                    "operation": {
                        "status": "RESOURCE_EXHAUSTED",
                        "reason": "ZONE_RESOURCE_POOL_EXHAUSTED",
                        "message": "The zone does not have enough resources available.",
                    },
                }
            ]
        },
    )
    reservations = clients.compute(compute_v1.ReservationsClient)
    operation = reservations.insert(
        project=compute_project,
        zone=ZONE,
        reservation_resource=compute_v1.Reservation(
            name="gpus",
            specific_reservation=compute_v1.AllocationSpecificSKUReservation(
                count=1,
                instance_properties=compute_v1.AllocationSpecificSKUAllocationReservedInstanceProperties(
                    machine_type="g2-standard-24"
                ),
            ),
        ),
    )
    done = clients.wait(operation, compute_project, zone=ZONE)
    assert done.status == DONE
    assert done.http_error_status_code == 429
    assert done.error.errors[0].code == "ZONE_RESOURCE_POOL_EXHAUSTED"
    with pytest.raises(exceptions.NotFound):
        reservations.get(project=compute_project, zone=ZONE, reservation="gpus")


def test_compute_needs_billing(clients: Clients, compute_project: str) -> None:
    clients.billing.update_project_billing_info(
        name=f"projects/{compute_project}", project_billing_info=billing_v1.ProjectBillingInfo()
    )
    with pytest.raises(exceptions.Forbidden) as caught:
        clients.compute(compute_v1.NetworksClient).list(project=compute_project)
    assert caught.value.reason == "BILLING_DISABLED"


def test_unknown_project_is_not_found(clients: Clients) -> None:
    with pytest.raises(exceptions.NotFound, match="projects/ghost-project"):
        clients.compute(compute_v1.NetworksClient).list(project="ghost-project")


def test_real_but_unemulated_methods_answer_501(clients: Clients, compute_project: str) -> None:
    with pytest.raises(exceptions.MethodNotImplemented, match=r"compute\.addresses\.list"):
        clients.compute(compute_v1.AddressesClient).list(project=compute_project, region=REGION)
