"""Fixtures shared by the flow and reliability suites."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole session (started by the first suite that asks)."""
    with prefect_test_harness(server_startup_timeout=60):
        yield
