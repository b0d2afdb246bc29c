"""The end-to-end tests' user: a fresh home and state directory, no Prefect or mlplat settings
from the environment, and the services `mlplat up` started stopped afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

MLPLAT = [sys.executable, "-m", "mlplat_cli.main"]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def user_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "MLPLAT_", "GITHUB_TOKEN"))
    }
    env.update(
        {
            "MLPLAT_SANDBOX_STATE_DIR": str(tmp_path / "state"),
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "HOME": str(tmp_path / "home"),
        }
    )
    try:
        yield env
    finally:
        subprocess.run(
            [*MLPLAT, "stop"], check=False, env=env, cwd=ROOT, capture_output=True, timeout=60
        )


def run_mlplat(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`mlplat ARGS` as that user runs it (output captured: not a terminal)."""
    return subprocess.run(
        [*MLPLAT, *args],
        check=False,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
