"""Container v1 (GKE) clusters through the official REST client: create, get, list, labels,
delete, the cluster-events hook, preconditions, request checks and restarts mid-operation
(node pools and operation rules: test_container_nodepools_api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from google.api_core import exceptions
from google.cloud import billing_v1, container_v1

from sandbox.cloud import Sandbox
from sandbox.gcp.container import cluster_events
from sandbox.gcp.container import cluster_store as container_state
from sandbox.runtime import Runtime
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

P = "gke-proj-1"
PARENT = f"projects/{P}/locations/{gke.REGION}"
CLUSTER = f"{PARENT}/clusters/ml-dev"
DONE = container_v1.Operation.Status.DONE
RUNNING = container_v1.Operation.Status.RUNNING
Status = container_v1.Cluster.Status
PoolStatus = container_v1.NodePool.Status


@pytest.fixture
def project(clients: Clients) -> str:
    return gke.gke_project(clients, P)


@pytest.fixture
def gke_client(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    return gke.container(sandbox)


@pytest.fixture
def events() -> Iterator[list[tuple[str, cluster_events.ClusterEvent]]]:
    seen: list[tuple[str, cluster_events.ClusterEvent]] = []

    def running(rt: Runtime, event: cluster_events.ClusterEvent) -> None:
        seen.append(("running", event))

    def deleted(rt: Runtime, event: cluster_events.ClusterEvent) -> None:
        seen.append(("deleted", event))

    cluster_events.on_cluster_running(running)
    cluster_events.on_cluster_deleted(deleted)
    yield seen
    cluster_events.remove_listener(running)
    cluster_events.remove_listener(deleted)


def test_create_private_regional_cluster(
    sandbox: Sandbox,
    project: str,
    gke_client: container_v1.ClusterManagerClient,
    events: list[tuple[str, cluster_events.ClusterEvent]],
) -> None:
    op = gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(project))
    assert (op.status, op.operation_type) == (RUNNING, container_v1.Operation.Type.CREATE_CLUSTER)
    assert op.target_link == f"{sandbox.url('container')}/v1/{CLUSTER}"
    assert gke_client.get_cluster(name=CLUSTER).status in (Status.PROVISIONING, Status.RUNNING)
    done = gke.finish(gke_client, project, gke.REGION, op)
    assert (done.status, done.error.code, done.end_time != "") == (DONE, 0, True)

    cluster = gke_client.get_cluster(name=CLUSTER)
    assert cluster.status == Status.RUNNING
    assert cluster.current_master_version.startswith("1.33.")  # REGULAR channel default
    assert cluster.node_config.disk_size_gb == 100
    assert cluster.label_fingerprint and cluster.label_fingerprint != "a9dc16a7"
    assert cluster.resource_labels == {"managed-by": "mlplat"}
    assert cluster.locations == ["us-central1-a", "us-central1-b", "us-central1-c"]
    assert cluster.private_cluster_config.private_endpoint == "172.16.0.34"
    assert cluster.endpoint == "172.16.0.34"  # private endpoint only
    assert cluster.workload_identity_config.workload_pool == f"{project}.svc.id.goog"
    dpv2 = container_v1.DatapathProvider.ADVANCED_DATAPATH
    assert cluster.network_config.datapath_provider == dpv2
    assert (
        cluster.network_config.subnetwork
        == f"projects/{P}/regions/us-central1/subnetworks/ml-subnet"
    )
    assert (cluster.cluster_ipv4_cidr, cluster.services_ipv4_cidr) == ("10.4.0.0/14", "10.8.0.0/20")
    limits = {limit.resource_type: limit.maximum for limit in cluster.autoscaling.resource_limits}
    assert limits == {"cpu": 600, "memory": 2400, "nvidia-l4": 16}
    assert cluster.autoscaling.autoprovisioning_node_pool_defaults.disk_size_gb == 100
    (system,) = cluster.node_pools
    assert (system.name, system.status, system.config.machine_type) == (
        "system",
        PoolStatus.RUNNING,
        "e2-standard-4",
    )
    assert cluster.current_node_count == 3  # 1 per zone × 3 zones
    assert [kind for kind, _ in events] == ["running"]
    event = events[0][1]
    assert (event.project_id, event.location, event.name) == (P, gke.REGION, "ml-dev")
    assert event.project_number.isdigit() and event.cluster["status"] == "RUNNING"

    with pytest.raises(exceptions.Conflict, match="Already exists"):
        gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(project))


def test_labels_need_the_current_fingerprint(
    sandbox: Sandbox, project: str, gke_client: container_v1.ClusterManagerClient
) -> None:
    fingerprint = gke.create_cluster(sandbox, project).label_fingerprint
    with pytest.raises(exceptions.BadRequest, match="fingerprint mismatch") as caught:
        gke_client.set_labels(
            request={
                "name": CLUSTER,
                "resource_labels": {"env": "dev"},
                "label_fingerprint": "deadbeef",
            }
        )
    assert gke.error_status(caught.value) == "FAILED_PRECONDITION"
    op = gke_client.set_labels(
        request={
            "name": CLUSTER,
            "resource_labels": {"managed-by": "mlplat", "env": "dev"},
            "label_fingerprint": fingerprint,
        }
    )
    assert op.operation_type == container_v1.Operation.Type.SET_LABELS
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    cluster = gke_client.get_cluster(name=CLUSTER)
    assert cluster.resource_labels == {"managed-by": "mlplat", "env": "dev"}
    assert cluster.label_fingerprint not in ("", fingerprint)


def test_list_everywhere_then_delete(
    sandbox: Sandbox,
    project: str,
    gke_client: container_v1.ClusterManagerClient,
    events: list[tuple[str, cluster_events.ClusterEvent]],
) -> None:
    gke.create_cluster(sandbox, project)
    zonal = gke.cluster_body(project, "ml-zonal")
    op = gke_client.create_cluster(parent=f"projects/{P}/locations/{gke.ZONE}", cluster=zonal)
    assert gke.finish(gke_client, P, gke.ZONE, op).status == DONE
    everywhere = gke_client.list_clusters(parent=f"projects/{P}/locations/-").clusters
    assert sorted((c.name, c.location) for c in everywhere) == [
        ("ml-dev", gke.REGION),
        ("ml-zonal", gke.ZONE),
    ]
    assert [c.name for c in gke_client.list_clusters(parent=PARENT).clusters] == ["ml-dev"]
    zonal_link = gke_client.get_cluster(name=f"projects/{P}/locations/{gke.ZONE}/clusters/ml-zonal")
    assert f"/v1/projects/{P}/zones/{gke.ZONE}/clusters/ml-zonal" in zonal_link.self_link

    with gke.slow_operations(sandbox):
        op = gke_client.delete_cluster(name=CLUSTER)
        assert op.operation_type == container_v1.Operation.Type.DELETE_CLUSTER
        assert gke_client.get_cluster(name=CLUSTER).status == Status.STOPPING
        sandbox.rt.advance(3000)
    assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
    with pytest.raises(exceptions.NotFound, match=f"Not found: {CLUSTER}."):
        gke_client.get_cluster(name=CLUSTER)
    assert [(kind, e.name) for kind, e in events] == [
        ("running", "ml-dev"),
        ("running", "ml-zonal"),
        ("deleted", "ml-dev"),
    ]


def test_preconditions(clients: Clients, sandbox: Sandbox) -> None:
    gke_client = gke.container(sandbox)
    clients.ready_project(P, ["compute.googleapis.com"])
    with pytest.raises(exceptions.Forbidden) as caught:
        gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(P))
    assert caught.value.reason == "SERVICE_DISABLED"
    assert caught.value.metadata["service"] == "container.googleapis.com"
    with pytest.raises(exceptions.Forbidden, match="Kubernetes Engine API has not been used"):
        gke_client.list_clusters(parent=f"projects/{P}/locations/-")

    container_api = f"projects/{P}/services/container.googleapis.com"
    clients.services.enable_service(request={"name": container_api}).result(timeout=10)
    with pytest.raises(exceptions.BadRequest, match='has no network named "ml-vpc"'):
        gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(P))
    gke.network(clients, P)
    wrong_range = gke.cluster_body(P)
    wrong_range.ip_allocation_policy.cluster_secondary_range_name = "pods-typo"
    with pytest.raises(exceptions.BadRequest, match='Pod secondary range "pods-typo" not found'):
        gke_client.create_cluster(parent=PARENT, cluster=wrong_range)
    wrong_pool = gke.cluster_body(P)
    wrong_pool.workload_identity_config.workload_pool = "other.svc.id.goog"
    with pytest.raises(exceptions.BadRequest, match="Workload Identity pool"):
        gke_client.create_cluster(parent=PARENT, cluster=wrong_pool)

    clients.billing.update_project_billing_info(
        name=f"projects/{P}", project_billing_info=billing_v1.ProjectBillingInfo()
    )
    with pytest.raises(exceptions.BadRequest, match="Billing account for project") as refused:
        gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(P))
    assert gke.error_status(refused.value) == "FAILED_PRECONDITION"
    assert gke_client.list_clusters(parent=f"projects/{P}/locations/-").clusters == []


def test_unknown_field_is_refused(sandbox: Sandbox, project: str) -> None:
    body: dict[str, Any] = {"cluster": {"name": "raw", "initialNodeCount": 1, "enableMagic": True}}
    response = requests.post(
        f"{sandbox.url('container')}/v1/{PARENT}/clusters", json=body, timeout=10
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == (
        "Invalid JSON payload received. Unknown name \"enableMagic\" at 'cluster': "
        "Cannot find field."
    )


def _state_with_project(tmp_path: Path) -> Path:
    """A sandbox state directory holding project P, ready for a cluster."""
    state = tmp_path / "state"
    with Sandbox(state) as setup:
        gke.gke_project(Clients(setup), P)
    return state


def test_operation_survives_restart(tmp_path: Path) -> None:
    state = _state_with_project(tmp_path)
    with Sandbox(state, latency="realistic", time_scale=10, seed=5) as first:
        gke_client = gke.container(first)
        op = gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(P))
        assert gke.finish(gke_client, P, gke.REGION, op).status == RUNNING
        assert gke_client.get_cluster(name=CLUSTER).status == Status.PROVISIONING
    with Sandbox(state, latency="realistic", time_scale=10, seed=6) as second:
        gke_client = gke.container(second)
        assert gke.finish(gke_client, P, gke.REGION, op).status == RUNNING
        second.rt.advance(2400)  # the longest any operation takes, unscaled
        done = gke.finish(gke_client, P, gke.REGION, op)
        assert (done.status, done.error.code) == (DONE, 0)
        cluster = gke_client.get_cluster(name=CLUSTER)
        assert cluster.status in (Status.RUNNING, Status.RECONCILING)  # 10 %: auto-upgrade
        assert cluster.node_pools[0].status == PoolStatus.RUNNING


def test_an_automatic_upgrade_after_create_is_journalled_under_its_cluster(
    tmp_path: Path,
) -> None:
    state = _state_with_project(tmp_path)
    with Sandbox(state, latency="realistic", time_scale=10, auto_upgrade_chance=1.0) as cloud:
        gke_client = gke.container(cloud)
        op = gke_client.create_cluster(parent=PARENT, cluster=gke.cluster_body(P))
        cloud.rt.advance(2400)
        assert gke.finish(gke_client, P, gke.REGION, op).status == DONE
        assert gke_client.get_cluster(name=CLUSTER).status == Status.RECONCILING
        upgrades = [
            s for s in cloud.rt.latency.journal() if s["key"] == container_state.AUTO_RECONCILE
        ]
        assert [s["subject"] for s in upgrades] == [CLUSTER]
        assert upgrades[0]["seconds"] > 0
