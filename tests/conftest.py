"""Fixtures shared by the flow and reliability suites."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness

# Where the environment sets PYTHONDONTWRITEBYTECODE (this machine does), no process keeps the
# byte code it compiles: every xdist worker and every subprocess the suite starts (`mlplat`,
# `prefect server`, the worker and its flow runs, `python -m sandbox serve`) compiled prefect,
# the Google clients and kubernetes from source again, ~8 s of CPU each. The suite keeps the
# caches (__pycache__, ignored by Git); the workers and subprocesses inherit this environment.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# The session's Prefect server imports and migrates its database before it answers: on a busy
# two-core machine that took over a minute, and a failed start errors every test of the worker.
HARNESS_STARTUP_TIMEOUT = 240


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (started by the first suite that asks)."""
    with prefect_test_harness(server_startup_timeout=HARNESS_STARTUP_TIMEOUT):
        yield
