"""GKE versions: getServerConfig through the official REST client and gcloud, from the same
table clusters are versioned by; unsupported versions are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import container_v1

from sandbox.cloud import Sandbox
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients
from tests.sandbox.container.test_gcloud_gke import P as GCLOUD_PROJECT
from tests.sandbox.container.test_gcloud_gke import _gcloud

P = "gke-versions-1"
Ch = container_v1.ReleaseChannel.Channel


def test_server_config_lists_what_clusters_get(clients: Clients, sandbox: Sandbox) -> None:
    gke.gke_project(clients, P)
    client = gke.container(sandbox)
    config = client.get_server_config(name=f"projects/{P}/locations/{gke.REGION}")
    channels = {c.channel: c for c in config.channels}
    assert set(channels) == {Ch.RAPID, Ch.REGULAR, Ch.STABLE, Ch.EXTENDED}
    regular = channels[Ch.REGULAR]
    assert regular.default_version in regular.valid_versions
    assert config.default_cluster_version == regular.default_version
    assert set(regular.valid_versions) <= set(config.valid_master_versions)
    assert set(config.valid_master_versions) <= set(config.valid_node_versions)
    assert config.default_image_type == "COS_CONTAINERD" in config.valid_image_types
    masters = [
        tuple(int(x) for x in v.split("-")[0].split(".")) for v in config.valid_master_versions
    ]
    assert masters == sorted(masters, reverse=True)  # descending, as Google lists them

    cluster = gke.create_cluster(sandbox, P)  # REGULAR channel, no version asked
    assert cluster.current_master_version == regular.default_version
    stable = channels[Ch.STABLE]
    op = client.update_master(name=cluster_path(), master_version=stable.valid_versions[-1])
    assert gke.finish(client, P, gke.REGION, op).status == container_v1.Operation.Status.DONE
    upgraded = client.get_cluster(name=cluster_path()).current_master_version
    assert upgraded == stable.valid_versions[-1]


def cluster_path() -> str:
    return f"projects/{P}/locations/{gke.REGION}/clusters/ml-dev"


def test_a_version_not_offered_is_refused(clients: Clients, sandbox: Sandbox) -> None:
    gke.gke_project(clients, P)
    body = gke.cluster_body(P)
    body.initial_cluster_version = "1.21"
    client = gke.container(sandbox)
    with pytest.raises(exceptions.BadRequest, match=r'Master version "1\.21" is unsupported'):
        client.create_cluster(parent=f"projects/{P}/locations/{gke.REGION}", cluster=body)


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")
def test_gcloud_get_server_config(clients: Clients, sandbox: Sandbox, tmp_path: Path) -> None:
    gke.gke_project(clients, GCLOUD_PROJECT)
    config = _gcloud(sandbox, "container", "get-server-config", "--location", gke.REGION)
    assert config["defaultClusterVersion"] in config["validMasterVersions"]
    regular = next(c for c in config["channels"] if c["channel"] == "REGULAR")
    assert regular["defaultVersion"] == config["defaultClusterVersion"]
