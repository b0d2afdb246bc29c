"""`mlplat kubeconfig ENV --via dns`: after a provision, kubectl reaches the cluster through its
DNS-based control-plane endpoint (the name in the cluster's answer); the Connect Gateway stays
the default; the file holding the token ends up 0600 even if it existed with another mode."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from flows.provision_environment import provision_environment
from mlplat.target import ENDPOINTS_ENV
from mlplat_cli.main import main
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE
from tests.sandbox import gke_setup as gke

CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"


def _kubectl(config: Path, *args: str) -> str:
    binary = shutil.which("kubectl")
    assert binary is not None, "kubectl is part of the image"
    done = subprocess.run(
        [binary, "--kubeconfig", str(config), "--request-timeout=20s", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "HOME": str(config.parent)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kubectl_through_the_dns_endpoint(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provision_environment("dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path))
    monkeypatch.setenv(ENDPOINTS_ENV, str(sandbox.endpoints_path))
    host = gke.container(sandbox).get_cluster(name=CLUSTER).control_plane_endpoints_config
    host_name = host.dns_endpoint_config.endpoint

    dns = tmp_path / "dns.yaml"
    dns.write_text("old\n")
    dns.chmod(0o644)
    assert (
        main(["kubeconfig", "dev", "--via", "dns", "-o", str(dns), "--spec", str(REFERENCE)]) == 0
    )
    assert stat.S_IMODE(dns.stat().st_mode) == 0o600
    server = yaml.safe_load(dns.read_text())["clusters"][0]["cluster"]["server"]
    assert server.endswith(f"/dns/{host_name}") and server.startswith("https://")
    assert "namespace/kube-system" in _kubectl(dns, "get", "ns", "-o", "name").split()

    gateway = tmp_path / "gateway.yaml"
    assert main(["kubeconfig", "dev", "-o", str(gateway), "--spec", str(REFERENCE)]) == 0
    server = yaml.safe_load(gateway.read_text())["clusters"][0]["cluster"]["server"]
    assert "/gkeMemberships/" in server
    assert "namespace/kube-system" in _kubectl(gateway, "get", "ns", "-o", "name").split()
