"""Container v1 (GKE) node pools and operations through the official REST client: pool
mutations, the one-operation-at-a-time rule, cancelling an upgrade, failed operations."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from google.api_core import exceptions
from google.cloud import container_v1

from sandbox.cloud import Sandbox
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

P = "gke-proj-2"
PARENT = f"projects/{P}/locations/{gke.REGION}"
CLUSTER = f"{PARENT}/clusters/ml-dev"
DONE = container_v1.Operation.Status.DONE
RUNNING = container_v1.Operation.Status.RUNNING
Status = container_v1.Cluster.Status
PoolStatus = container_v1.NodePool.Status
gpu_pool = gke.gpu_pool


@pytest.fixture
def project(clients: Clients) -> str:
    return gke.gke_project(clients, P)


@pytest.fixture
def gke_client(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    return gke.container(sandbox)


def test_node_pools(
    sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    gke.create_cluster(sandbox, project)
    op = gke_client.create_node_pool(parent=CLUSTER, node_pool=gpu_pool(spot=True))
    assert op.operation_type == container_v1.Operation.Type.CREATE_NODE_POOL
    assert op.target_link.endswith(f"{CLUSTER}/nodePools/gpu-spot")
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    reserved = gpu_pool(
        "gpu-reserved",
        reservation_affinity=container_v1.ReservationAffinity(
            consume_reservation_type=container_v1.ReservationAffinity.Type.SPECIFIC_RESERVATION,
            key="compute.googleapis.com/reservation-name",
            values=[gke.RESERVATION],
        ),
    )
    reserved.locations = [gke.ZONE]
    op = gke_client.create_node_pool(parent=CLUSTER, node_pool=reserved)
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE

    pools = {pool.name: pool for pool in gke_client.list_node_pools(parent=CLUSTER).node_pools}
    assert list(pools) == ["system", "gpu-spot", "gpu-reserved"]
    spot = pools["gpu-spot"]
    assert (spot.status, spot.config.spot, spot.config.accelerators[0].accelerator_count) == (
        PoolStatus.RUNNING,
        True,
        2,
    )
    assert spot.config.resource_labels["goog-gke-node-pool-provisioning-model"] == "spot"
    assert spot.autoscaling.total_max_node_count == 8
    assert pools["gpu-reserved"].locations == [gke.ZONE]
    assert pools["gpu-reserved"].config.reservation_affinity.values == [gke.RESERVATION]

    name = f"{CLUSTER}/nodePools/gpu-spot"
    autoscaling = container_v1.NodePoolAutoscaling(
        enabled=True, total_min_node_count=0, total_max_node_count=16
    )
    op = gke_client.set_node_pool_autoscaling(request={"name": name, "autoscaling": autoscaling})
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    assert gke_client.get_node_pool(name=name).autoscaling.total_max_node_count == 16
    op = gke_client.set_node_pool_size(
        request={"name": f"{CLUSTER}/nodePools/system", "node_count": 2}
    )
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    assert gke_client.get_cluster(name=CLUSTER).current_node_count == 6
    update = container_v1.UpdateNodePoolRequest(
        name=name, labels=container_v1.NodeLabels(labels={"team": "vision"})
    )
    op = gke_client.update_node_pool(request=update)
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    assert gke_client.get_node_pool(name=name).config.labels == {"team": "vision"}
    with pytest.raises(exceptions.BadRequest, match="Auto-upgrade must be enabled"):
        gke_client.set_node_pool_management(
            request={"name": name, "management": {"auto_repair": True}}
        )

    op = gke_client.delete_node_pool(name=name)
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    with pytest.raises(exceptions.NotFound, match="nodePools/gpu-spot"):
        gke_client.get_node_pool(name=name)
    missing = gpu_pool(
        "gpu-missing",
        reservation_affinity=container_v1.ReservationAffinity(
            consume_reservation_type=container_v1.ReservationAffinity.Type.SPECIFIC_RESERVATION,
            key="compute.googleapis.com/reservation-name",
            values=["no-such-reservation"],
        ),
    )
    with pytest.raises(exceptions.BadRequest, match="no-such-reservation"):
        gke_client.create_node_pool(parent=CLUSTER, node_pool=missing)


def test_one_operation_at_a_time(
    sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    gke.create_cluster(sandbox, project)
    networks = container_v1.MasterAuthorizedNetworksConfig(
        enabled=True, cidr_blocks=[{"cidr_block": "10.10.0.0/16"}]
    )
    update = container_v1.ClusterUpdate(desired_master_authorized_networks_config=networks)
    with gke.slow_operations(sandbox):
        op = gke_client.update_cluster(name=CLUSTER, update=update)
        assert gke.finish(gke_client, P, gke.REGION, op).status == RUNNING
        assert gke_client.get_cluster(name=CLUSTER).status == Status.RECONCILING
        with pytest.raises(exceptions.BadRequest) as caught:
            gke_client.update_cluster(name=CLUSTER, update=update)
        assert gke.error_status(caught.value) == "FAILED_PRECONDITION"
        assert f"Operation {op.name} is currently upgrading cluster ml-dev." in caught.value.message
        with pytest.raises(exceptions.BadRequest, match="Please wait and try again"):
            gke_client.create_node_pool(parent=CLUSTER, node_pool=gpu_pool())
        listed = gke_client.list_operations(parent=PARENT).operations
        assert [(o.name, o.status) for o in listed if o.status == RUNNING] == [(op.name, RUNNING)]
        sandbox.rt.advance(3000)
        assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    cluster = gke_client.get_cluster(name=CLUSTER)
    assert cluster.status == Status.RUNNING
    assert cluster.master_authorized_networks_config.cidr_blocks[0].cidr_block == "10.10.0.0/16"


def test_cancel_an_upgrade(
    sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    before = gke.create_cluster(sandbox, project).current_master_version
    with gke.slow_operations(sandbox):
        op = gke_client.update_master(name=CLUSTER, master_version="1.34")
        assert op.operation_type == container_v1.Operation.Type.UPGRADE_MASTER
        gke_client.cancel_operation(name=gke.operation_name(P, gke.REGION, op))
        aborting = gke.finish(gke_client, P, gke.REGION, op)
        assert aborting.status == container_v1.Operation.Status.ABORTING
        sandbox.rt.advance(3000)
    done = gke.finish(gke_client, P, gke.REGION, op)
    assert (done.status, done.error.code) == (DONE, 1)  # CANCELLED
    assert gke_client.get_cluster(name=CLUSTER).current_master_version == before
    op = gke_client.update_master(name=CLUSTER, master_version="1.34")
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    assert gke_client.get_cluster(name=CLUSTER).current_master_version.startswith("1.34.")
    with pytest.raises(exceptions.BadRequest, match="already done"):
        gke_client.cancel_operation(name=gke.operation_name(P, gke.REGION, op))


def test_failed_operations_leave_errors(
    clients: Clients, sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    gke.create_cluster(sandbox, project)
    stockout = {"status": "RESOURCE_EXHAUSTED", "message": "GCE_STOCKOUT: no L4 left in zone"}
    rule = {
        "method": "container.projects.locations.clusters.nodePools.create",
        "operation": stockout,
    }
    clients.admin("PUT", "/faults", {"rules": [rule]})
    op = gke_client.create_node_pool(parent=CLUSTER, node_pool=gpu_pool())
    done = gke.finish(gke_client, P, gke.REGION, op)
    assert (done.status, done.error.code, done.status_message) == (
        DONE,
        8,
        "GCE_STOCKOUT: no L4 left in zone",
    )
    pool = gke_client.get_node_pool(name=f"{CLUSTER}/nodePools/gpu-spot")
    assert (pool.status, pool.status_message) == (PoolStatus.ERROR, stockout["message"])
    condition = pool.conditions[0]
    assert condition.code == container_v1.StatusCondition.Code.GCE_STOCKOUT
    assert condition.canonical_code == 8  # google.rpc.Code.RESOURCE_EXHAUSTED

    rule = {"method": "container.projects.locations.clusters.create", "operation": {}}
    clients.admin("PUT", "/faults", {"rules": [rule]})
    op = gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(P, "ml-broken"))
    assert gke.finish(gke_client, P, gke.REGION, op).error.code == 13
    broken = gke_client.get_cluster(name=f"{PARENT}/clusters/ml-broken")
    assert (broken.status, broken.status_message) == (Status.ERROR, "Injected operation failure.")
    clients.admin("PUT", "/faults", {"rules": []})
    op = gke_client.delete_cluster(name=f"{PARENT}/clusters/ml-broken")  # an ERROR cluster goes
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE


def test_parallel_pool_creates_all_reach_running(
    sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    """Regression: an operation settled inside another request's read-modify-write was undone
    by that request's write, leaving a pool PROVISIONING forever."""
    gke.create_cluster(sandbox, project)
    names = [f"pool-{i}" for i in range(5)]
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=5) as pool:
            ops = list(
                pool.map(
                    lambda name: gke_client.create_node_pool(
                        parent=CLUSTER, node_pool=gpu_pool(name)
                    ),
                    names,
                )
            )
        for op in ops:
            assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
        statuses = {p.name: p.status for p in gke_client.list_node_pools(parent=CLUSTER).node_pools}
        assert all(statuses[n] == container_v1.NodePool.Status.RUNNING for n in names), statuses
        for name in names:
            gke.finish(
                gke_client,
                P,
                gke.REGION,
                gke_client.delete_node_pool(name=f"{CLUSTER}/nodePools/{name}"),
            )


def test_autoscaled_pool_created_without_a_size_starts_at_its_per_zone_minimum(
    sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    """As Google's recordings (Config Connector's node pool fixtures) show; a pool bounded by
    total counts, as mlplat's GPU pools are, keeps the size sent (0: omitted on the wire)."""
    gke.create_cluster(sandbox, project)
    per_zone = container_v1.NodePool(
        name="cpu-auto",
        autoscaling=container_v1.NodePoolAutoscaling(
            enabled=True, min_node_count=1, max_node_count=3
        ),
        locations=[gke.ZONE],
    )
    for pool in (per_zone, gpu_pool()):
        op = gke_client.create_node_pool(parent=CLUSTER, node_pool=pool)
        assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    made = gke_client.get_node_pool(name=f"{CLUSTER}/nodePools/cpu-auto")
    assert made.initial_node_count == 1
    assert made.network_config.pod_ipv4_range_utilization > 0
    assert gke_client.get_node_pool(name=f"{CLUSTER}/nodePools/gpu-spot").initial_node_count == 0
