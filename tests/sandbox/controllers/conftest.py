"""Fixtures: a fleet (sandbox, cluster, GKE Hub spec, GitOps repository) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.controllers.fleet_env import Fleet, start


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The platform cluster with Config Sync and Policy Controller asked for (no git-creds)."""
    running = start(tmp_path_factory.mktemp("fleet") / "state", "ml-platform-dev")
    try:
        yield running
    finally:
        running.close()
