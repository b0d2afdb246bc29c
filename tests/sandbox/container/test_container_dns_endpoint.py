"""A cluster's DNS-based control-plane endpoint is served: kubectl reaches the cluster's API at
the name the cluster answer carries (mapped under the sandbox's `gkedns` base URL), and the
API's `/version` is the cluster's GKE version."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.cloud import container_v1

from sandbox.cloud import Sandbox
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients
from tests.sandbox.container.test_container_endpoints import PARENT, isolated

P = "gke-dns-1"
TOKEN = "sandbox-admin-dns"  # the sandbox maps sandbox-admin* tokens to a cluster admin


def _cluster(sandbox: Sandbox, clients: Clients, *, dns: bool = True) -> container_v1.Cluster:
    project = gke.gke_project(clients, P)
    client = gke.container(sandbox)
    op = client.create_cluster(parent=PARENT, cluster=isolated(project, "iso", dns=dns))
    assert gke.finish(client, P, gke.REGION, op).status == container_v1.Operation.Status.DONE
    return client.get_cluster(name=f"{PARENT}/clusters/iso")


def _server(sandbox: Sandbox, host: str) -> str:
    """What stands for https://<host> on the sandbox."""
    return sandbox.url("gkedns").replace("http://", "https://", 1) + "/" + host


def _kubeconfig(sandbox: Sandbox, host: str) -> dict[str, Any]:
    ca = sandbox.component("connectgateway").ca_pem  # type: ignore[attr-defined]
    cluster = {
        "server": _server(sandbox, host),
        "certificate-authority-data": base64.b64encode(ca.encode()).decode(),
    }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "dns", "cluster": cluster}],
        "users": [{"name": "dns", "user": {"token": TOKEN}}],
        "contexts": [{"name": "dns", "context": {"cluster": "dns", "user": "dns"}}],
        "current-context": "dns",
    }


def _kubectl(tmp_path: Path, config: dict[str, Any], *args: str) -> str:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "KUBECONFIG": str(path), "HOME": str(tmp_path)}
    done = subprocess.run(
        [binary, "--request-timeout=20s", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kubectl_reaches_the_cluster_at_its_dns_endpoint(
    clients: Clients, sandbox: Sandbox, tmp_path: Path
) -> None:
    cluster = _cluster(sandbox, clients)
    host = cluster.control_plane_endpoints_config.dns_endpoint_config.endpoint
    config = _kubeconfig(sandbox, host)
    names = _kubectl(tmp_path, config, "get", "ns", "-o", "name").split()
    assert "namespace/default" in names and "namespace/kube-system" in names
    version = json.loads(_kubectl(tmp_path, config, "version", "-o", "json"))["serverVersion"]
    assert version["gitVersion"] == f"v{cluster.current_master_version}"
    major, minor = cluster.current_master_version.split(".")[:2]
    assert (version["major"], version["minor"]) == (major, minor)


def _status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_a_dns_endpoint_without_external_traffic_refuses_users(
    clients: Clients, sandbox: Sandbox
) -> None:
    cluster = _cluster(sandbox, clients, dns=False)
    host = cluster.control_plane_endpoints_config.dns_endpoint_config.endpoint
    base = sandbox.url("gkedns")
    assert _status(f"{base}/{host}/version") == 403
    assert _status(f"{base}/gke-0123abcd-999999.us-central1.gke.goog/version") == 404


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed")
def test_gcloud_get_credentials_dns_endpoint_names_the_cluster_answer(
    clients: Clients, sandbox: Sandbox, tmp_path: Path
) -> None:
    cluster = _cluster(sandbox, clients)
    host = cluster.control_plane_endpoints_config.dns_endpoint_config.endpoint
    kubeconfig = tmp_path / "kubeconfig"
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        "CLOUDSDK_API_ENDPOINT_OVERRIDES_CONTAINER": sandbox.url("container") + "/",
        "KUBECONFIG": str(kubeconfig),
    }
    done = subprocess.run(
        [
            "gcloud",
            "container",
            "clusters",
            "get-credentials",
            "iso",
            "--dns-endpoint",
            "--location",
            gke.REGION,
            "--project",
            P,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    written = yaml.safe_load(kubeconfig.read_text())
    (entry,) = written["clusters"]
    assert entry["cluster"]["server"] == f"https://{host}"  # what the sandbox maps under gkedns
    assert entry["name"] == f"gke_{P}_{gke.REGION}_iso"
