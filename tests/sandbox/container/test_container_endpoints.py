"""A cluster's control-plane access in both of GKE's views, through the official REST client:
created with the network-isolation fields it also shows the legacy ones, and the other way
round (as Config Connector's recordings of real clusters show); conflicting legacy and new
fields are refused; in-place updates move a legacy cluster to the new fields."""

from __future__ import annotations

import re
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import container_v1

from sandbox.cloud import Sandbox
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

P = "gke-dns-1"
PARENT = f"projects/{P}/locations/{gke.REGION}"
DNS_HOST = re.compile(r"gke-[0-9a-f]+-\d+\.us-central1\.gke\.goog")
Endpoints = container_v1.ControlPlaneEndpointsConfig
AUTHORIZED = container_v1.MasterAuthorizedNetworksConfig(
    enabled=True, cidr_blocks=[{"cidr_block": "10.0.0.0/8", "display_name": "internal"}]
)


@pytest.fixture
def project(clients: Clients) -> str:
    return gke.gke_project(clients, P)


@pytest.fixture
def client(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    return gke.container(sandbox)


def isolated(project: str, name: str, *, dns: bool = True) -> container_v1.Cluster:
    """The platform cluster with the network-isolation fields only (and the master range)."""
    body = gke.cluster_body(project, name)
    body.private_cluster_config = container_v1.PrivateClusterConfig(
        master_ipv4_cidr_block="172.16.0.48/28"
    )
    body.master_authorized_networks_config = None
    body.network_config.default_enable_private_nodes = True
    body.control_plane_endpoints_config = Endpoints(
        ip_endpoints_config=Endpoints.IPEndpointsConfig(
            enabled=True, enable_public_endpoint=False, authorized_networks_config=AUTHORIZED
        ),
        dns_endpoint_config=Endpoints.DNSEndpointConfig(allow_external_traffic=dns),
    )
    return body


def _create(client: container_v1.ClusterManagerClient, body: container_v1.Cluster) -> dict:
    op = client.create_cluster(parent=PARENT, cluster=body)
    assert gke.finish(client, P, gke.REGION, op).status == container_v1.Operation.Status.DONE
    return _get(client, body.name)


def _get(client: container_v1.ClusterManagerClient, name: str) -> dict:
    cluster = client.get_cluster(name=f"{PARENT}/clusters/{name}")
    return dict(type(cluster).to_dict(cluster, use_integers_for_enums=False))


def test_new_fields_are_answered_in_both_views(
    project: str, client: container_v1.ClusterManagerClient
) -> None:
    cluster = _create(client, isolated(project, "iso"))
    endpoints = cluster["control_plane_endpoints_config"]
    dns = endpoints["dns_endpoint_config"]
    assert dns["allow_external_traffic"] is True and DNS_HOST.fullmatch(dns["endpoint"])
    ip = endpoints["ip_endpoints_config"]
    assert (ip["enabled"], ip["enable_public_endpoint"]) == (True, False)
    assert ip["private_endpoint"] == "172.16.0.50" == cluster["endpoint"]
    assert ip["authorized_networks_config"]["cidr_blocks"][0]["cidr_block"] == "10.0.0.0/8"
    assert not ip["public_endpoint"]
    assert cluster["network_config"]["default_enable_private_nodes"] is True
    legacy = cluster["private_cluster_config"]
    assert legacy["enable_private_nodes"] is True and legacy["enable_private_endpoint"] is True
    assert legacy["private_endpoint"] == "172.16.0.50"
    assert legacy["master_ipv4_cidr_block"] == "172.16.0.48/28"
    assert cluster["master_authorized_networks_config"] == ip["authorized_networks_config"]
    assert cluster["node_pools"][0]["network_config"]["enable_private_nodes"] is True


def test_legacy_fields_are_answered_in_both_views(
    project: str, client: container_v1.ClusterManagerClient
) -> None:
    cluster = _create(client, gke.cluster_body(project, "old"))
    ip = cluster["control_plane_endpoints_config"]["ip_endpoints_config"]
    assert (ip["enabled"], ip["enable_public_endpoint"]) == (True, False)
    assert ip["authorized_networks_config"]["enabled"] is True
    dns = cluster["control_plane_endpoints_config"]["dns_endpoint_config"]
    assert dns["allow_external_traffic"] is False  # GKE's default: the DNS endpoint exists
    assert DNS_HOST.fullmatch(dns["endpoint"])
    assert cluster["network_config"]["default_enable_private_nodes"] is True


def test_ip_endpoints_off_make_the_dns_name_the_endpoint(
    project: str, client: container_v1.ClusterManagerClient
) -> None:
    body = isolated(project, "dnsonly")
    body.control_plane_endpoints_config.ip_endpoints_config = Endpoints.IPEndpointsConfig(
        enabled=False
    )
    cluster = _create(client, body)
    dns = cluster["control_plane_endpoints_config"]["dns_endpoint_config"]["endpoint"]
    assert cluster["endpoint"] == dns  # as in Google's recording of such a cluster
    assert not cluster["private_cluster_config"]["private_endpoint"]


def _public_nodes(body: container_v1.Cluster) -> None:
    body.private_cluster_config.enable_private_nodes = True
    body.network_config.default_enable_private_nodes = False


def _public_endpoint(body: container_v1.Cluster) -> None:
    body.private_cluster_config.enable_private_endpoint = True
    body.control_plane_endpoints_config.ip_endpoints_config.enable_public_endpoint = True


# A false legacy flag is not sent at all (not `optional` in the proto): only a legacy `true`
# can meet a disagreeing new field.
@pytest.mark.parametrize(
    ("mix", "field"),
    [(_public_nodes, "default_enable_private_nodes"), (_public_endpoint, "enable_public_endpoint")],
)
def test_conflicting_legacy_and_new_fields_are_refused(
    project: str, client: container_v1.ClusterManagerClient, mix: Any, field: str
) -> None:
    body = isolated(project, "mixed")
    mix(body)
    with pytest.raises(exceptions.BadRequest, match=f"conflicts with .*{field}") as caught:
        client.create_cluster(parent=PARENT, cluster=body)
    assert gke.error_status(caught.value) == "INVALID_ARGUMENT"
    with pytest.raises(exceptions.NotFound):
        client.get_cluster(name=f"{PARENT}/clusters/mixed")


def test_agreeing_legacy_and_new_fields_are_accepted(
    project: str, client: container_v1.ClusterManagerClient
) -> None:
    body = isolated(project, "agree")
    body.private_cluster_config.enable_private_nodes = True  # as Config Connector sends it
    assert _create(client, body)["network_config"]["default_enable_private_nodes"] is True


def test_a_legacy_cluster_moves_to_the_new_fields_in_place(
    project: str, client: container_v1.ClusterManagerClient
) -> None:
    _create(client, gke.cluster_body(project, "move"))
    update = container_v1.ClusterUpdate(
        desired_control_plane_endpoints_config=Endpoints(
            dns_endpoint_config=Endpoints.DNSEndpointConfig(allow_external_traffic=True),
            ip_endpoints_config=Endpoints.IPEndpointsConfig(
                enabled=True, enable_public_endpoint=False, authorized_networks_config=AUTHORIZED
            ),
        )
    )
    op = client.update_cluster(name=f"{PARENT}/clusters/move", update=update)
    assert gke.finish(client, P, gke.REGION, op).status == container_v1.Operation.Status.DONE
    cluster = _get(client, "move")
    dns = cluster["control_plane_endpoints_config"]["dns_endpoint_config"]
    assert dns["allow_external_traffic"] is True
    assert cluster["private_cluster_config"]["enable_private_endpoint"] is True

    conflicting = container_v1.ClusterUpdate(
        desired_enable_private_endpoint=True,
        desired_control_plane_endpoints_config=Endpoints(
            ip_endpoints_config=Endpoints.IPEndpointsConfig(enable_public_endpoint=True)
        ),
    )
    with pytest.raises(exceptions.BadRequest, match="conflicts with"):
        client.update_cluster(name=f"{PARENT}/clusters/move", update=conflicting)


def test_a_public_cluster_answers_as_in_googles_recordings(
    project: str, client: container_v1.ClusterManagerClient
) -> None:
    body = gke.cluster_body(project, "public")
    body.private_cluster_config = None
    body.master_authorized_networks_config = None
    cluster = _create(client, body)
    ip = cluster["control_plane_endpoints_config"]["ip_endpoints_config"]
    assert (ip["enabled"], ip["enable_public_endpoint"]) == (True, True)
    assert (
        ip["public_endpoint"]
        == cluster["endpoint"]
        == cluster["private_cluster_config"]["public_endpoint"]
    )
    assert ip["authorized_networks_config"]["gcp_public_cidrs_access_enabled"] is True
    assert not cluster["network_config"].get("default_enable_private_nodes")
    assert not cluster["private_cluster_config"]["enable_private_nodes"]
