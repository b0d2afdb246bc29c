"""A flow process killed in the middle of cluster creation: the next run waits on the
operation already in flight, creates no second cluster, and finishes. Both runs go through a
real `prefect server` (its lease repossessor frees the killed run's environment slot, as in
production; the test harness's server runs no such service)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import container_v1

from mlplat_cli.services import ensure_prefect
from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN, GitHub
from tests.flows.conftest import REFERENCE, admin
from tests.sandbox.conftest import client_kwargs

CREATE = "container.projects.locations.clusters.create"
CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"
RUN = (
    "import json, sys; from flows.provision_environment import provision_environment; "
    "print(json.dumps(provision_environment('dev', spec_dir=sys.argv[1], endpoints=sys.argv[2])))"
)


@pytest.fixture
def prefect_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real Prefect server (SQLite under tmp_path), stopped afterwards."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    url, _ = ensure_prefect(tmp_path / "services")
    try:
        yield url
    finally:
        pid = int((tmp_path / "services" / "prefect.pid").read_text())
        os.killpg(pid, signal.SIGTERM)


@pytest.fixture
def slow_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """Realistic latency at 1/60 of real time: a regional cluster takes several seconds."""
    with Sandbox(tmp_path / "state", latency="realistic", time_scale=60, seed=3) as running:
        github = running.component("github")
        assert isinstance(github, GitHub)
        github.create_org("ml-platform-org")
        monkeypatch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
        yield running


def _creates(sandbox: Sandbox) -> int:
    method = admin(sandbox, "GET", "/counters")["methods"].get(CREATE, {})
    return int(method.get("writes", 0))


@pytest.mark.timeout(600)
def test_killed_during_cluster_creation_resumes_without_a_second_create(
    slow_sandbox: Sandbox, prefect_server: str
) -> None:
    env = {**os.environ, "PREFECT_API_URL": prefect_server}
    args = [sys.executable, "-c", RUN, str(REFERENCE), str(slow_sandbox.endpoints_path)]
    process = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while _creates(slow_sandbox) == 0:
            assert process.poll() is None, "the flow ended before creating the cluster"
            assert time.monotonic() < deadline, "the cluster create never came"
            time.sleep(0.1)
        gke = container_v1.ClusterManagerClient(**client_kwargs(slow_sandbox.url("container")))
        assert gke.get_cluster(name=CLUSTER).status == container_v1.Cluster.Status.PROVISIONING
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    rerun = subprocess.run(args, env=env, capture_output=True, text=True, timeout=400, check=False)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    result = json.loads(rerun.stdout.strip().splitlines()[-1])
    assert _creates(slow_sandbox) == 1, "a second cluster create was sent"
    assert gke.get_cluster(name=CLUSTER).status == container_v1.Cluster.Status.RUNNING
    rows = {row["resource"]: row["action"] for row in result["rows"]}
    assert rows["gke/cluster mlp-dev"] == "noop", "the rerun found the cluster, created nothing"
    assert all(
        rows[f"gke/node-pool {p}"] == "create"
        for p in ("gpu-l4-reserved", "gpu-l4-ondemand", "gpu-l4-spot")
    )
