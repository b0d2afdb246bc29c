"""An in-process sandbox and the mlplat Target pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mlplat.target import Target, sandbox_from_file
from sandbox.cloud import Sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "state", latency="instant") as running:
        yield running


@pytest.fixture
def target(sandbox: Sandbox) -> Target:
    """How mlplat itself finds the sandbox: through endpoints.json."""
    return sandbox_from_file(sandbox.endpoints_path)
