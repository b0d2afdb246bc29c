"""A flow process killed in the middle of cluster creation leaves its environment's slot taken
(its lease would keep it for another minute); the next run, waiting for it meanwhile, finds
the holder's process dead, frees the slot saying whose it was, then finds the cluster, creates
no second one, and finishes. Where exactly a run may be killed, and what the next one must
then do, is tests/reliability/test_crash_resume.py's subject."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path

import pytest
from prefect.exceptions import ObjectNotFound

from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, writes
from tests.reliability.killer import Point, arm, held_slots, kill_at, start_flow

CREATE = "container.projects.locations.clusters.create"


def _held(sandbox: Sandbox) -> bool:
    try:
        return held_slots(sandbox) == 1
    except ObjectNotFound:  # the limit is created on first use
        return False


@pytest.mark.timeout(600)
def test_a_killed_runs_environment_is_freed_by_the_next_run_which_resumes(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    wire = arm(sandbox, Point("cluster-create", CREATE, in_flight=5.0))
    log = tmp_path / "killed-run.log"
    killed = start_flow(sandbox, REFERENCE, log)
    deadline = time.monotonic() + 240
    while not _held(sandbox):  # the first run holds dev: the next one will wait for it
        assert killed.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)
    rerun_log = tmp_path / "next-run.log"
    rerun = start_flow(sandbox, REFERENCE, rerun_log)
    kill_at(killed, wire, log)
    killed_at, killed_clock = time.monotonic(), datetime.now()

    assert rerun.wait(timeout=400) == 0, rerun_log.read_text()[-3000:]
    output = rerun_log.read_text()
    freed = [line for line in output.splitlines() if "freed lock mlplat-mlp-dev-" in line]
    assert freed, output[-3000:]
    assert f"process {killed.pid} on " in freed[0] and "is dead" in freed[0], freed[0]
    # Prefect's console lines start with the local time: when the slot was freed
    at = datetime.combine(
        killed_clock.date(), datetime.strptime(freed[0][:12], "%H:%M:%S.%f").time()
    )
    took, free = time.monotonic() - killed_at, (at - killed_clock).total_seconds()
    print(
        f"the killed run's slot freed {free:.0f}s after the kill; next run done after {took:.0f}s"
    )
    assert 0 < free < 120, freed[0]
    result = json.loads([line for line in output.splitlines() if line.startswith("{")][-1])
    assert writes(sandbox)[CREATE] == 1, "a second cluster create was sent"
    rows = {row["resource"]: row["action"] for row in result["rows"]}
    assert rows["gke/cluster mlp-dev"] == "noop", "the next run found the cluster"
    assert all(
        rows[f"gke/node-pool {pool}"] == "create"
        for pool in ("gpu-l4-reserved", "gpu-l4-ondemand", "gpu-l4-spot")
    )
