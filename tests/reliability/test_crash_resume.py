"""Crash-resume: the flow process is SIGKILLed at one point per test (every step boundary of
provision_environment, and right after the call that starts each long-running operation or
in-cluster write); the next run converges without a second create of anything, and a third run
changes nothing.

The kill is deterministic (tests/reliability/killer.py): the sandbox holds its answer to the
point's request until the process is dead. Latency is instant except for the operation the point
starts, which runs a few seconds, so the next run meets it in flight (the hard case: it must
find that operation, not start another). The next run starts at once: the test gives back the
killed run's environment slot (that the next run frees it itself, finding the killed process
dead, is tests/flows/test_resume.py's subject), which also means it meets the killed run's
work mid-way."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE
from tests.reliability.conftest import FULL
from tests.reliability.killer import (
    BOUNDARIES,
    MAY_REFUSE,
    OPERATIONS,
    Point,
    arm,
    free_environment,
    held_slots,
    in_flight,
    kill_at,
    start_flow,
    unexpected,
)
from tests.reliability.writes import CleanRun, provision, writes_of

CI_POINTS = ("project-create", "cluster-create", "after-fleet")
POINTS = [p for p in BOUNDARIES + OPERATIONS if FULL or p.name in CI_POINTS]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("point", POINTS, ids=lambda p: p.name)
def test_a_run_killed_at_a_point_resumes_without_a_second_create(
    point: Point, sandbox: Sandbox, tmp_path: Path, clean_dev: CleanRun
) -> None:
    wire = arm(sandbox, point)
    log = tmp_path / "killed-run.log"
    kill_at(start_flow(sandbox, REFERENCE, log), wire, log)
    if point.in_flight:
        assert in_flight(sandbox, point.method), "the killed run's operation is already done"
    free_environment(sandbox)
    time.sleep(0.5)  # answers to the dead process's last requests are recorded
    killed = writes_of(wire.requests())
    resumed_from = len(wire.requests())

    state = provision(sandbox.endpoints_path)
    assert state.is_completed(), f"the run after the kill failed: {state.message}"
    both = writes_of(wire.requests())
    diff = unexpected(point, killed, both.served, clean_dev.writes.served)
    assert not diff, f"writes of the killed + resumed run vs one clean run: {diff}"
    refused = [
        (r["method"], r["status"], r["path"])
        for r in wire.requests()[resumed_from:]
        if not r["read"]
        and r["status"] >= 400
        and not (r["method"] == point.method and r["method"] in MAY_REFUSE)
    ]
    assert not refused, f"writes of the resumed run refused: {refused}"

    mark = len(wire.requests())
    state = provision(sandbox.endpoints_path)
    assert state.is_completed(), state.message
    again = writes_of(wire.requests()[mark:])
    assert again.total == 0, f"a converged environment was changed: {dict(again.served)}"
    assert held_slots(sandbox) == 0, "a finished run kept the environment's slot"
