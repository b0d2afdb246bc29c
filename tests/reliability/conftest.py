"""The reliability suite: small in CI; `MLPLAT_RELIABILITY=full` runs every point at full size."""

from __future__ import annotations

import os

import pytest

from tests.flows.conftest import sandbox  # noqa: F401 - the flow suite's fresh sandbox per test
from tests.reliability.writes import CleanRun, clean_run

FULL = os.environ.get("MLPLAT_RELIABILITY", "") == "full"


@pytest.fixture(scope="session", autouse=True)
def prefect_server(prefect_harness: None) -> None:
    """Every reliability test runs against the session's Prefect server."""


def scale(small: int, full: int) -> int:
    """How many runs or points a test makes: `small` in CI, `full` under MLPLAT_RELIABILITY=full."""
    return full if FULL else small


@pytest.fixture(scope="session")
def clean_dev(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    """What one uninterrupted run of dev writes on a fresh sandbox, and the platform it
    leaves (made once per session: the yardstick of several reliability tests)."""
    return clean_run(tmp_path_factory.mktemp("clean") / "state", listed=True)
