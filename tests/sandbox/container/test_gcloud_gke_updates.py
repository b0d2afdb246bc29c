"""What `gcloud container clusters update` and `node-pools update` commonly send is applied,
never answered 501 (the sandbox not emulating it): two commands through gcloud itself, the
ClusterUpdate fields of its other common flags through the official client."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from google.cloud import container_v1

from sandbox.cloud import Sandbox
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

P = "gcloud-upd-1"
NAME = f"projects/{P}/locations/{gke.REGION}/clusters/ml-dev"
HPA = container_v1.PodAutoscaling.HPAProfile
# gcloud flag → the ClusterUpdate it sends (one kind of update per command).
CLUSTER_UPDATES: list[tuple[str, dict[str, Any]]] = [
    ("--hpa-profile=performance", {"desired_pod_autoscaling": {"hpa_profile": HPA.PERFORMANCE}}),
    (
        "--autoprovisioning-network-tags",
        {"desired_node_pool_auto_config_network_tags": {"tags": ["ml"]}},
    ),
    (
        "--enable-master-global-access",
        {"desired_private_cluster_config": {"master_global_access_config": {"enabled": True}}},
    ),
    ("--in-transit-encryption", {"desired_in_transit_encryption_config": 2}),
    ("--enable-image-streaming", {"desired_gcfs_config": {"enabled": True}}),
    ("--enable-intra-node-visibility", {"desired_intra_node_visibility_config": {"enabled": True}}),
    ("--enable-service-externalips", {"desired_service_external_ips_config": {"enabled": True}}),
    ("--anonymous-authentication-config", {"desired_anonymous_authentication_config": {"mode": 2}}),
    (
        "--enable-insecure-binding-system-authenticated",
        {"desired_rbac_binding_config": {"enable_insecure_binding_system_authenticated": False}},
    ),
    ("--enable-k8s-beta-apis", {"desired_k8s_beta_apis": {"enabled_apis": ["a/v1beta1/b"]}}),
    ("--disable-default-snat", {"desired_default_snat_status": {"disabled": True}}),
    ("--enable-secret-manager", {"desired_secret_manager_config": {"enabled": True}}),
    ("--tier=enterprise", {"desired_enterprise_config": {"desired_tier": 2}}),
]


def _gcloud(sandbox: Sandbox, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER": sandbox.url("container") + "/",
    }
    return subprocess.run(
        ["gcloud", "container", *args, "--project", P, "--location", gke.REGION, "--async"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")
def test_gcloud_updates_are_applied(clients: Clients, sandbox: Sandbox, tmp_path: Path) -> None:
    gke.gke_project(clients, P)
    gke.create_cluster(sandbox, P)
    config = tmp_path / "gcloud"
    done = _gcloud(sandbox, config, "clusters", "update", "ml-dev", "--maintenance-window=03:00")
    assert done.returncode == 0, done.stderr  # setMaintenancePolicy
    autoscaling = ["--enable-autoscaling", "--min-nodes=0", "--max-nodes=5"]
    done = _gcloud(
        sandbox, config, "node-pools", "update", "system", "--cluster=ml-dev", *autoscaling
    )
    # setAutoscaling, with the per-zone limits gcloud merges into the pool's current ones
    assert done.returncode == 0, done.stderr
    cluster = gke.container(sandbox).get_cluster(name=NAME)
    assert cluster.maintenance_policy.window.daily_maintenance_window.start_time == "03:00"
    [pool] = cluster.node_pools
    assert (pool.autoscaling.min_node_count, pool.autoscaling.max_node_count) == (0, 5)


def test_cluster_updates_gcloud_sends_are_applied(clients: Clients, sandbox: Sandbox) -> None:
    gke.gke_project(clients, P)
    gke.create_cluster(sandbox, P)
    client = gke.container(sandbox)
    for flag, update in CLUSTER_UPDATES:
        op = client.update_cluster(name=NAME, update=container_v1.ClusterUpdate(**update))
        assert gke.finish(client, P, gke.REGION, op).status == container_v1.Operation.Status.DONE, (
            flag
        )
    assert [r for r in sandbox.rt.counters.requests() if r["status"] == 501] == []
    cluster = client.get_cluster(name=NAME)
    assert cluster.pod_autoscaling.hpa_profile == HPA.PERFORMANCE
    assert list(cluster.node_pool_auto_config.network_tags.tags) == ["ml"]
    assert cluster.private_cluster_config.master_global_access_config.enabled
    ip = cluster.control_plane_endpoints_config.ip_endpoints_config
    assert ip.global_access  # the new view of the same access, in step
    assert cluster.network_config.in_transit_encryption_config == 2
    assert cluster.node_pool_defaults.node_config_defaults.gcfs_config.enabled
    assert cluster.network_config.enable_intra_node_visibility
    assert cluster.network_config.service_external_ips_config.enabled
    assert cluster.anonymous_authentication_config.mode == 2
    assert not cluster.rbac_binding_config.enable_insecure_binding_system_authenticated
    assert list(cluster.enable_k8s_beta_apis.enabled_apis) == ["a/v1beta1/b"]
    assert cluster.network_config.default_snat_status.disabled
    assert cluster.secret_manager_config.enabled
    assert cluster.enterprise_config.cluster_tier == 2
