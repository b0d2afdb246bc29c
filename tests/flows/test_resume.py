"""A flow process killed in the middle of cluster creation holds its environment's slot until
the slot's lease lapses; the next run waits for that (rather than running beside a run it cannot
know is dead), then finds the cluster, creates no second one, and finishes.

Both runs go through a real `prefect server`: its lease repossessor frees the killed run's slot,
as in production (the test harness's server runs no such service). Where exactly a run may be
killed, and what the next one must then do, is tests/reliability/test_crash_resume.py's subject
(it gives the slot back at once instead of waiting out the lease)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows._locks import LEASE_SECONDS
from mlplat_cli.services import ensure_prefect, stop_services
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, writes
from tests.reliability.killer import Point, arm, kill_at, start_flow

CREATE = "container.projects.locations.clusters.create"


@pytest.fixture
def prefect_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real Prefect server (SQLite under tmp_path) whose repossessor looks for lapsed leases
    every second (default: 15 s), stopped afterwards."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    monkeypatch.setenv("PREFECT_SERVER_SERVICES_REPOSSESSOR_LOOP_SECONDS", "1")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    url, _ = ensure_prefect(tmp_path / "services")
    try:
        yield url
    finally:
        stop_services(tmp_path / "services")


@pytest.mark.timeout(600)
def test_a_killed_runs_environment_is_freed_by_its_lease_and_the_next_run_resumes(
    sandbox: Sandbox, prefect_server: str, tmp_path: Path
) -> None:
    wire = arm(sandbox, Point("cluster-create", CREATE, in_flight=5.0))
    log = tmp_path / "killed-run.log"
    kill_at(start_flow(sandbox, REFERENCE, log, prefect_server), wire, log)
    killed_at = time.monotonic()

    rerun_log = tmp_path / "next-run.log"
    rerun = start_flow(sandbox, REFERENCE, rerun_log, prefect_server)
    assert rerun.wait(timeout=LEASE_SECONDS * 2 + 240) == 0, rerun_log.read_text()[-3000:]
    waited = time.monotonic() - killed_at
    assert waited > LEASE_SECONDS / 2, f"the next run did not wait for the slot ({waited:.0f}s)"
    output = rerun_log.read_text().splitlines()
    result = json.loads([line for line in output if line.startswith("{")][-1])
    assert writes(sandbox)[CREATE] == 1, "a second cluster create was sent"
    rows = {row["resource"]: row["action"] for row in result["rows"]}
    assert rows["gke/cluster mlp-dev"] == "noop", "the next run found the cluster"
    assert all(
        rows[f"gke/node-pool {pool}"] == "create"
        for pool in ("gpu-l4-reserved", "gpu-l4-ondemand", "gpu-l4-spot")
    )
