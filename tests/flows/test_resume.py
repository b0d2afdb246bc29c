"""A flow process killed in the middle of cluster creation: the next run waits on the
operation already in flight, creates no second cluster, and finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import container_v1
from prefect.settings import PREFECT_API_URL

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN, GitHub
from tests.flows.conftest import REFERENCE, admin
from tests.sandbox.conftest import client_kwargs

CREATE = "container.projects.locations.clusters.create"
CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"
RUN = (
    "import sys; from flows.provision_environment import provision_environment; "
    "provision_environment('dev', spec_dir=sys.argv[1], endpoints=sys.argv[2])"
)


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
    slow_sandbox: Sandbox,
) -> None:
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    process = subprocess.Popen(
        [sys.executable, "-c", RUN, str(REFERENCE), str(slow_sandbox.endpoints_path)],
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

    result = provision_environment(
        "dev", spec_dir=str(REFERENCE), endpoints=str(slow_sandbox.endpoints_path)
    )
    assert _creates(slow_sandbox) == 1, "a second cluster create was sent"
    assert gke.get_cluster(name=CLUSTER).status == container_v1.Cluster.Status.RUNNING
    rows = {row["resource"]: row["action"] for row in result["rows"]}
    assert rows["gke/cluster mlp-dev"] == "noop", "the rerun found the cluster, created nothing"
    assert all(
        rows[f"gke/node-pool {p}"] == "create"
        for p in ("gpu-l4-reserved", "gpu-l4-ondemand", "gpu-l4-spot")
    )
