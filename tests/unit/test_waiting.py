"""poll() says when a wait starts and ends (DEBUG lines the console shows as "waiting on"),
and says nothing when the first answer is already the one awaited."""

from __future__ import annotations

import logging

import pytest

from mlplat.errors import TransientError
from mlplat.gcp.waiting import poll


def _waits(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "mlplat.wait"]


def test_a_wait_logs_its_start_and_its_end(caplog: pytest.LogCaptureFixture) -> None:
    answers = iter(["PROVISIONING", "PROVISIONING", "RUNNING"])
    with caplog.at_level(logging.DEBUG, logger="mlplat.wait"):
        got = poll(
            "gke/cluster c: RUNNING",
            lambda: next(answers),
            "RUNNING".__eq__,
            deadline=60,
            sleep=lambda _: None,
        )
    assert got == "RUNNING"
    said = _waits(caplog)
    assert said[0] == "gke/cluster c: RUNNING: waiting"
    assert said[-1].startswith("gke/cluster c: RUNNING: waited ") and len(said) == 2


def test_no_wait_no_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="mlplat.wait"):
        assert poll("x", lambda: 1, bool, deadline=60, sleep=lambda _: None) == 1
    assert _waits(caplog) == []


def test_a_wait_past_its_deadline_still_ends(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="mlplat.wait"), pytest.raises(TransientError):
        poll("x", lambda: 0, bool, deadline=0.0, sleep=lambda _: None)
    said = _waits(caplog)
    assert said[0] == "x: waiting" and said[-1].startswith("x: waited ")
