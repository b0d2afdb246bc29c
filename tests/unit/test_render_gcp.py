"""Rendered API bodies are valid for the official message types and carry the fixed defects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.cloud import compute_v1, container_v1, gkehub_v1, resourcemanager_v3
from google.cloud.gkehub_v1 import configmanagement_v1
from googleapiclient import discovery_cache

from mlplat.render import cluster, fleet, network, project
from mlplat.specs import PlatformSpec, load_spec
from tests.unit.spec_files import REFERENCE

PROJECT = "mlp-dev-a1b2"


@pytest.fixture(scope="module")
def spec() -> PlatformSpec:
    return load_spec(REFERENCE)


def _parses(message: Any, body: dict[str, Any]) -> Any:
    """Parse camelCase JSON strictly: an unknown field name fails."""
    return message.from_json(json.dumps(body), ignore_unknown_fields=False)


def test_project_body(spec: PlatformSpec) -> None:
    desired = project.project(spec.platform, spec.environments["dev"])
    parsed = _parses(resourcemanager_v3.Project, dict(desired.body))
    assert parsed.parent == "folders/123456789012"
    assert parsed.labels["managed-by"] == "mlplat"
    assert "connectgateway.googleapis.com" in project.services()
    assert "gkeconnect.googleapis.com" in project.services()


def test_cluster_body_is_private_dataplane_v2_and_parses(spec: PlatformSpec) -> None:
    desired = cluster.cluster(spec.platform, spec.environments["dev"], PROJECT)
    parsed = _parses(container_v1.Cluster, desired.create_body())
    assert parsed.network_config.default_enable_private_nodes
    ip = parsed.control_plane_endpoints_config.ip_endpoints_config
    assert ip.enabled and not ip.enable_public_endpoint and ip.authorized_networks_config.enabled
    assert parsed.control_plane_endpoints_config.dns_endpoint_config.allow_external_traffic
    # the legacy fields are not sent; the master range stays where GKE keeps it
    assert container_v1.PrivateClusterConfig.to_dict(parsed.private_cluster_config) == (
        container_v1.PrivateClusterConfig.to_dict(
            container_v1.PrivateClusterConfig(master_ipv4_cidr_block="172.16.0.32/28")
        )
    )
    assert "masterAuthorizedNetworksConfig" not in desired.create_body()
    assert (
        parsed.network_config.datapath_provider == container_v1.DatapathProvider.ADVANCED_DATAPATH
    )
    assert parsed.shielded_nodes.enabled
    assert parsed.workload_identity_config.workload_pool == f"{PROJECT}.svc.id.goog"
    assert [p.name for p in parsed.node_pools] == ["system"]
    assert (
        parsed.node_pools[0].config.service_account
        == f"mlp-dev-nodes@{PROJECT}.iam.gserviceaccount.com"
    )
    assert "nodePools" not in desired.body, "node pools are planned on their own"


def test_the_dns_endpoint_can_be_turned_off(spec: PlatformSpec) -> None:
    env = spec.environments["dev"]
    off = env.model_copy(update={"cluster": env.cluster.model_copy(update={"dns_endpoint": False})})
    body = cluster.cluster(spec.platform, off, PROJECT).body
    assert body["controlPlaneEndpointsConfig"]["dnsEndpointConfig"] == {
        "allowExternalTraffic": False
    }


def test_spot_pool_is_really_spot_and_reservation_pool_is_bound(spec: PlatformSpec) -> None:
    pools = {
        d.name: d for d in cluster.node_pools(spec.platform, spec.environments["dev"], PROJECT)
    }
    spot = _parses(container_v1.NodePool, pools["gpu-l4-spot"].create_body())
    assert spot.config.spot is True
    assert spot.config.accelerators[0].accelerator_count == 2
    reserved = _parses(container_v1.NodePool, pools["gpu-l4-reserved"].create_body())
    affinity = reserved.config.reservation_affinity
    assert affinity.values == ["mlp-dev-gpu-l4-reserved"]
    ondemand = _parses(container_v1.NodePool, pools["gpu-l4-ondemand"].create_body())
    assert ondemand.config.spot is False and not ondemand.config.preemptible


def test_network_bodies_parse(spec: PlatformSpec) -> None:
    env = spec.environments["dev"]
    _parses(compute_v1.Network, dict(network.network(spec.platform, env).body))
    subnet = _parses(compute_v1.Subnetwork, dict(network.subnet(spec.platform, env, PROJECT).body))
    assert [r.range_name for r in subnet.secondary_ip_ranges] == ["pods", "services"]
    router = _parses(compute_v1.Router, dict(network.router(spec.platform, env, PROJECT).body))
    assert router.nats[0].source_subnetwork_ip_ranges_to_nat == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    (reservation,) = network.reservations(spec.platform, env)
    parsed = _parses(compute_v1.Reservation, dict(reservation.body))
    assert parsed.specific_reservation.count == 2


def test_fleet_bodies_parse(spec: PlatformSpec) -> None:
    env = spec.environments["dev"]
    membership = _parses(
        gkehub_v1.Membership, dict(fleet.membership(spec.platform, env, PROJECT).body)
    )
    assert membership.endpoint.gke_cluster.resource_link.endswith("/clusters/mlp-dev")
    cm = fleet.config_management_spec(spec.platform, env, "https://github.com/o/r.git")
    parsed = _parses(configmanagement_v1.MembershipSpec, dict(cm.body))
    assert parsed.config_sync.git.sync_branch == "dev"
    assert parsed.config_sync.enabled and parsed.config_sync.prevent_drift
    assert "policyController" not in cm.body and "management" not in cm.body


def _unknown_fields(schemas: dict[str, Any], schema: dict[str, Any], value: Any, at: str) -> list:
    """Keys of `value` that the discovery schema does not declare."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    if isinstance(value, dict) and "properties" in schema:
        found = [f"{at}.{k}" for k in value if k not in schema["properties"]]
        for key, item in value.items():
            if key in schema["properties"]:
                found += _unknown_fields(schemas, schema["properties"][key], item, f"{at}.{key}")
        return found
    if isinstance(value, dict) and "additionalProperties" in schema:
        return [
            problem
            for key, item in value.items()
            for problem in _unknown_fields(schemas, schema["additionalProperties"], item, key)
        ]
    if isinstance(value, list) and "items" in schema:
        return [p for item in value for p in _unknown_fields(schemas, schema["items"], item, at)]
    return []


def test_policy_controller_spec_fits_hubs_schema(spec: PlatformSpec) -> None:
    """google-cloud-gke-hub has no policycontroller message: the discovery document judges."""
    env = spec.environments["dev"]
    schemas = json.loads(discovery_cache.get_static_doc("gkehub", "v1"))["schemas"]
    body = dict(fleet.policy_controller_spec(spec.platform, env).body)
    assert _unknown_fields(schemas, {"$ref": "PolicyControllerMembershipSpec"}, body, "") == []
    config = body["policyControllerHubConfig"]
    enum = schemas["PolicyControllerHubConfig"]["properties"]["installSpec"]["enum"]
    assert config["installSpec"] == "INSTALL_SPEC_ENABLED" and config["installSpec"] in enum
    assert config["policyContent"]["templateLibrary"] == {"installation": "ALL"}
    assert body["version"] == spec.platform.versions.policy_controller


def test_ray_operator_addon_comes_from_the_spec(spec: PlatformSpec) -> None:
    env = spec.environments["dev"]
    parsed = _parses(container_v1.Cluster, cluster.cluster(spec.platform, env, PROJECT).body)
    ray = parsed.addons_config.ray_operator_config
    assert ray.enabled and ray.ray_cluster_logging_config.enabled
    assert ray.ray_cluster_monitoring_config.enabled
    quiet = env.cluster.ray_operator.model_copy(update={"logging": False})
    changed = env.model_copy(
        update={"cluster": env.cluster.model_copy(update={"ray_operator": quiet})}
    )
    body = cluster.cluster(spec.platform, changed, PROJECT).body
    assert body["addonsConfig"]["rayOperatorConfig"] == {
        "enabled": True,
        "rayClusterLoggingConfig": {"enabled": False},
        "rayClusterMonitoringConfig": {"enabled": True},
    }
