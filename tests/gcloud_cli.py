"""gcloud, Google's own CLI, run against a sandbox: an independent client reading and changing
what mlplat made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from sandbox.__main__ import env_lines


def gcloud(state_dir: Path, *args: str) -> Any:
    """`gcloud ARGS --format=json` with the exports of `python -m sandbox env` for the sandbox
    whose state is in `state_dir`; its parsed output. Skips the test without gcloud."""
    if shutil.which("gcloud") is None:
        pytest.skip("gcloud is not installed")
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDSDK_")}
    for line in env_lines(state_dir):
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value.strip("'")
    done = subprocess.run(
        ["gcloud", *args, "--format=json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout or "null")
