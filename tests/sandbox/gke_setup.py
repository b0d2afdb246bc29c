"""Shared setup of the GKE and GKE Hub conformance tests: a project ready for GKE (APIs,
billing, VPC, subnet with secondary ranges, a GPU reservation), the official Container and
Hub clients, and the private regional cluster the platform creates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.api_core import exceptions
from google.cloud import compute_v1, container_v1, gkehub_v1

from sandbox.cloud import Sandbox
from sandbox.latency import LatencyModel
from tests.sandbox.conftest import Clients, client_kwargs

REGION = "us-central1"
ZONE = "us-central1-a"
NETWORK = "ml-vpc"
SUBNET = "ml-subnet"
RESERVATION = "l4-reservation"
SERVICES = [
    "anthosconfigmanagement.googleapis.com",
    "anthospolicycontroller.googleapis.com",
    "container.googleapis.com",
    "gkehub.googleapis.com",
    "iam.googleapis.com",
]
NODE_ACCOUNT = "gke-nodes"
Ch = container_v1.ReleaseChannel.Channel


def container(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    """The official GKE client (REST) against the sandbox."""
    return container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))


def hub(sandbox: Sandbox) -> gkehub_v1.GkeHubClient:
    """The official GKE Hub client (REST) against the sandbox."""
    return gkehub_v1.GkeHubClient(**client_kwargs(sandbox.url("gkehub")))


def network(clients: Clients, project: str) -> None:
    """A custom-mode VPC, a subnet with `pods`/`services` ranges, an L4 reservation."""
    networks = clients.compute(compute_v1.NetworksClient)
    op = networks.insert(
        project=project,
        network_resource=compute_v1.Network(name=NETWORK, auto_create_subnetworks=False),
    )
    clients.wait(op, project)
    subnet = compute_v1.Subnetwork(
        name=SUBNET,
        network=f"global/networks/{NETWORK}",
        ip_cidr_range="10.0.0.0/20",
        private_ip_google_access=True,
        secondary_ip_ranges=[
            compute_v1.SubnetworkSecondaryRange(range_name="pods", ip_cidr_range="10.4.0.0/14"),
            compute_v1.SubnetworkSecondaryRange(range_name="services", ip_cidr_range="10.8.0.0/20"),
        ],
    )
    op = clients.compute(compute_v1.SubnetworksClient).insert(
        project=project, region=REGION, subnetwork_resource=subnet
    )
    clients.wait(op, project, region=REGION)
    reservation = compute_v1.Reservation(
        name=RESERVATION,
        specific_reservation_required=True,
        specific_reservation=compute_v1.AllocationSpecificSKUReservation(
            count=2,
            instance_properties=compute_v1.AllocationSpecificSKUAllocationReservedInstanceProperties(
                machine_type="g2-standard-24",
                guest_accelerators=[
                    compute_v1.AcceleratorConfig(accelerator_type="nvidia-l4", accelerator_count=2)
                ],
            ),
        ),
    )
    op = clients.compute(compute_v1.ReservationsClient).insert(
        project=project, zone=ZONE, reservation_resource=reservation
    )
    clients.wait(op, project, zone=ZONE)


def gke_project(clients: Clients, project: str) -> str:
    """A project with billing, the GKE/Hub/Compute/IAM APIs, the platform's network and the
    nodes' service account."""
    clients.ready_project(project, SERVICES)
    network(clients, project)
    clients.create_service_account(project, NODE_ACCOUNT)
    return project


def cluster_body(project: str, name: str = "ml-dev") -> container_v1.Cluster:
    """The platform's private regional cluster: Workload Identity, Dataplane V2, NAP limits,
    a system pool."""
    return container_v1.Cluster(
        name=name,
        network=NETWORK,
        subnetwork=SUBNET,
        ip_allocation_policy=container_v1.IPAllocationPolicy(
            use_ip_aliases=True,
            cluster_secondary_range_name="pods",
            services_secondary_range_name="services",
        ),
        private_cluster_config=container_v1.PrivateClusterConfig(
            enable_private_nodes=True,
            enable_private_endpoint=True,
            master_ipv4_cidr_block="172.16.0.32/28",
        ),
        master_authorized_networks_config=container_v1.MasterAuthorizedNetworksConfig(
            enabled=True,
            cidr_blocks=[{"cidr_block": "10.0.0.0/8", "display_name": "internal"}],
        ),
        workload_identity_config=container_v1.WorkloadIdentityConfig(
            workload_pool=f"{project}.svc.id.goog"
        ),
        network_config=container_v1.NetworkConfig(
            datapath_provider=container_v1.DatapathProvider.ADVANCED_DATAPATH
        ),
        release_channel=container_v1.ReleaseChannel(channel=Ch.REGULAR),
        autoscaling=container_v1.ClusterAutoscaling(
            enable_node_autoprovisioning=True,
            resource_limits=[
                container_v1.ResourceLimit(resource_type="cpu", minimum=4, maximum=600),
                container_v1.ResourceLimit(resource_type="memory", minimum=16, maximum=2400),
                container_v1.ResourceLimit(resource_type="nvidia-l4", maximum=16),
            ],
        ),
        addons_config=container_v1.AddonsConfig(
            gcs_fuse_csi_driver_config={"enabled": True},
            gce_persistent_disk_csi_driver_config={"enabled": True},
        ),
        resource_labels={"managed-by": "mlplat"},
        node_pools=[
            container_v1.NodePool(
                name="system",
                initial_node_count=1,
                config=container_v1.NodeConfig(
                    machine_type="e2-standard-4",
                    service_account=f"{NODE_ACCOUNT}@{project}.iam.gserviceaccount.com",
                    workload_metadata_config={"mode": 2},  # GKE_METADATA
                ),
                autoscaling=container_v1.NodePoolAutoscaling(
                    enabled=True, min_node_count=1, max_node_count=3
                ),
                management=container_v1.NodeManagement(auto_repair=True, auto_upgrade=True),
            )
        ],
    )


def operation_name(project: str, location: str, op: container_v1.Operation) -> str:
    """The name to poll a GKE operation with."""
    return f"projects/{project}/locations/{location}/operations/{op.name}"


def finish(
    client: container_v1.ClusterManagerClient, project: str, location: str, op: Any
) -> container_v1.Operation:
    """Poll a GKE operation (instant mode: done at the next request)."""
    done: container_v1.Operation = client.get_operation(name=operation_name(project, location, op))
    return done


def create_cluster(sandbox: Sandbox, project: str, name: str = "ml-dev") -> container_v1.Cluster:
    """Create the platform cluster in REGION and wait for it."""
    client = container(sandbox)
    op = client.create_cluster(
        parent=f"projects/{project}/locations/{REGION}", cluster=cluster_body(project, name)
    )
    assert finish(client, project, REGION, op).status == container_v1.Operation.Status.DONE
    cluster: container_v1.Cluster = client.get_cluster(
        name=f"projects/{project}/locations/{REGION}/clusters/{name}"
    )
    return cluster


def error_status(error: exceptions.GoogleAPICallError) -> str:
    """The google.rpc status name of an error answered over REST."""
    response: Any = error.response
    return str(response.json()["error"]["status"])


def gpu_pool(name: str = "gpu-spot", **config: Any) -> container_v1.NodePool:
    """An autoscaled (0–8) pool of g2-standard-24 with 2 L4 GPUs each, tainted for GPUs."""
    return container_v1.NodePool(
        name=name,
        autoscaling=container_v1.NodePoolAutoscaling(
            enabled=True, total_min_node_count=0, total_max_node_count=8
        ),
        management=container_v1.NodeManagement(auto_repair=True, auto_upgrade=True),
        config=container_v1.NodeConfig(
            machine_type="g2-standard-24",
            accelerators=[
                container_v1.AcceleratorConfig(
                    accelerator_type="nvidia-l4",
                    accelerator_count=2,
                    gpu_driver_installation_config={"gpu_driver_version": 2},  # LATEST
                )
            ],
            taints=[
                container_v1.NodeTaint(
                    key="nvidia.com/gpu",
                    value="present",
                    effect=container_v1.NodeTaint.Effect.NO_SCHEDULE,
                )
            ],
            **config,
        ),
    )


@contextmanager
def slow_operations(sandbox: Sandbox, time_scale: float = 10.0) -> Iterator[None]:
    """Operations take realistic (scaled) time on the sandbox clock until the block ends;
    `sandbox.rt.advance(seconds)` completes them without waiting."""
    rt = sandbox.rt
    previous = rt.latency
    rt.latency = LatencyModel("realistic", time_scale=time_scale, seed=3)
    try:
        yield
    finally:
        rt.latency = previous
