"""gcloud, an independent client, reads the sandbox's GKE clusters, node pools and fleet
memberships (what it cannot read, a user cannot read)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from google.cloud import gkehub_v1

from sandbox.cloud import Sandbox
from tests.gcloud_cli import gcloud
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

P = "gcloud-proj-1"
pytestmark = pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")


def _gcloud(sandbox: Sandbox, *args: str) -> Any:
    return gcloud(sandbox.state_dir, *args, "--project", P)


def test_gcloud_reads_clusters_pools_and_memberships(clients: Clients, sandbox: Sandbox) -> None:
    gke.gke_project(clients, P)
    gke.create_cluster(sandbox, P)
    hub = gke.hub(sandbox)
    link = f"//container.googleapis.com/projects/{P}/locations/{gke.REGION}/clusters/ml-dev"
    membership = gkehub_v1.Membership(
        endpoint=gkehub_v1.MembershipEndpoint(gke_cluster=gkehub_v1.GkeCluster(resource_link=link))
    )
    hub.create_membership(
        parent=f"projects/{P}/locations/global", resource=membership, membership_id="ml-dev"
    )
    described = _gcloud(
        sandbox, "container", "clusters", "describe", "ml-dev", "--location", gke.REGION
    )
    assert (described["name"], described["status"], described["location"]) == (
        "ml-dev",
        "RUNNING",
        gke.REGION,
    )
    assert described["privateClusterConfig"]["enablePrivateNodes"] is True
    assert described["networkConfig"]["datapathProvider"] == "ADVANCED_DATAPATH"
    assert described["currentMasterVersion"] == described["currentNodeVersion"]

    listed = _gcloud(sandbox, "container", "clusters", "list")
    assert [(c["name"], c["location"], c["status"]) for c in listed] == [
        ("ml-dev", gke.REGION, "RUNNING")
    ]

    pools = _gcloud(
        sandbox,
        "container",
        "node-pools",
        "list",
        "--cluster",
        "ml-dev",
        "--location",
        gke.REGION,
    )
    assert [(p["name"], p["status"], p["autoscaling"]["maxNodeCount"]) for p in pools] == [
        ("system", "RUNNING", 3)
    ]

    memberships = _gcloud(sandbox, "container", "fleet", "memberships", "list")
    number = clients.projects.get_project(name=f"projects/{P}").name.split("/")[1]
    assert [(m["name"], m["state"]["code"]) for m in memberships] == [
        (f"projects/{number}/locations/global/memberships/ml-dev", "READY")
    ]
    assert memberships[0]["endpoint"]["gkeCluster"]["resourceLink"] == link
