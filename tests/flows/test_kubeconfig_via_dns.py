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

from flows.provision_environment import context_of
from mlplat.converge import identity, network, project
from mlplat.converge.cluster import ensure_cluster
from mlplat.specs import load_spec
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


@pytest.mark.provisioned
def test_kubectl_through_the_dns_endpoint(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_a_dns_endpoint_turned_off_in_the_spec_is_refused(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / "spec"
    shutil.copytree(REFERENCE, spec, ignore=shutil.ignore_patterns("schema"))
    dev = spec / "environments" / "dev.yaml"
    doc = yaml.safe_load(dev.read_text())
    doc["cluster"]["dns_endpoint"] = False
    dev.write_text(yaml.safe_dump(doc, sort_keys=False))
    ctx = context_of(load_spec(spec), "dev", False, str(sandbox.endpoints_path))
    for step in (project.ensure_project, project.ensure_billing, project.ensure_services):
        step(ctx)
    identity.ensure_node_service_account(ctx)
    network.ensure_network(ctx)
    network.ensure_subnet(ctx)
    ensure_cluster(ctx)
    monkeypatch.setenv(ENDPOINTS_ENV, str(sandbox.endpoints_path))

    out = tmp_path / "dns.yaml"
    assert main(["kubeconfig", "dev", "--via", "dns", "-o", str(out), "--spec", str(spec)]) == 1
    assert "admits no user traffic" in capsys.readouterr().err and not out.exists()
    endpoint = gke.container(sandbox).get_cluster(name=CLUSTER).control_plane_endpoints_config
    assert endpoint.dns_endpoint_config.allow_external_traffic is False
