"""gcloud, an independent client, reads and changes sandbox resources (what it cannot read, a
user cannot read)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import compute_v1

from sandbox.__main__ import env_lines
from sandbox.cloud import Sandbox
from tests.gcloud_cli import gcloud
from tests.sandbox.conftest import BILLING_ACCOUNT, Clients

pytestmark = [
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed"),
    pytest.mark.timeout(180),
]
PROJECT = "gcloud-project"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clients]:
    """One sandbox for the module, with a project, billing, compute and a network."""
    with Sandbox(tmp_path_factory.mktemp("gcloud") / "state") as sandbox:
        clients = Clients(sandbox)
        clients.ready_project(PROJECT, ["compute.googleapis.com"])
        networks = clients.compute(compute_v1.NetworksClient)
        operation = networks.insert(
            project=PROJECT,
            network_resource=compute_v1.Network(name="ml-vpc", auto_create_subnetworks=False),
        )
        clients.wait(operation, PROJECT)
        yield clients


def test_projects_describe(cloud: Clients) -> None:
    project = gcloud(cloud.sandbox.state_dir, "projects", "describe", PROJECT)
    number = cloud.projects.get_project(name=f"projects/{PROJECT}").name.removeprefix("projects/")
    assert project["projectId"] == PROJECT
    assert project["projectNumber"] == number
    assert project["lifecycleState"] == "ACTIVE"
    assert project["parent"] == {"type": "folder", "id": "100"}


def test_services_list_enabled(cloud: Clients) -> None:
    services = gcloud(
        cloud.sandbox.state_dir, "services", "list", "--enabled", "--project", PROJECT
    )
    names = {service["config"]["name"] for service in services}
    assert "compute.googleapis.com" in names
    assert "container.googleapis.com" not in names


def test_billing_projects_describe(cloud: Clients) -> None:
    info = gcloud(cloud.sandbox.state_dir, "billing", "projects", "describe", PROJECT)
    assert info["billingEnabled"] is True
    assert info["billingAccountName"] == BILLING_ACCOUNT


def test_compute_networks_list(cloud: Clients) -> None:
    networks = gcloud(cloud.sandbox.state_dir, "compute", "networks", "list", "--project", PROJECT)
    assert [network["name"] for network in networks] == ["ml-vpc"]
    assert networks[0]["selfLink"].startswith(cloud.sandbox.url("compute"))


def test_gcloud_creates_a_router_with_nat(cloud: Clients) -> None:
    region = ["--region", "us-central1", "--project", PROJECT]
    gcloud(
        cloud.sandbox.state_dir,
        "compute",
        "routers",
        "create",
        "nat-router",
        "--network",
        "ml-vpc",
        *region,
    )
    gcloud(
        cloud.sandbox.state_dir,
        "compute",
        "routers",
        "nats",
        "create",
        "nat",
        "--router",
        "nat-router",
        "--auto-allocate-nat-external-ips",
        "--nat-all-subnet-ip-ranges",
        *region,
    )
    router = cloud.compute(compute_v1.RoutersClient).get(
        project=PROJECT, region="us-central1", router="nat-router"
    )
    assert [(nat.name, nat.nat_ip_allocate_option) for nat in router.nats] == [("nat", "AUTO_ONLY")]


def test_env_exports(cloud: Clients) -> None:
    lines = env_lines(cloud.sandbox.state_dir)
    compute = f"export CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE={cloud.sandbox.url('compute')}/"
    assert compute in lines
    assert "export CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true" in lines
    endpoints = Path(cloud.sandbox.endpoints_path).resolve()
    assert f"export MLPLAT_SANDBOX_ENDPOINTS={endpoints}" in lines
