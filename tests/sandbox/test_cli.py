"""`python -m sandbox serve` and `python -m sandbox env`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sandbox.__main__ import main


def test_serve_runs_until_terminated_and_env_points_at_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--state-dir", str(state), "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        endpoints = state / "endpoints.json"
        deadline = time.monotonic() + 30
        while not endpoints.exists():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the sandbox did not start"
            time.sleep(0.05)
        data = json.loads(endpoints.read_text())
        assert set(data["apis"]) >= {
            "cloudresourcemanager",
            "cloudbilling",
            "serviceusage",
            "compute",
        }
        with urllib.request.urlopen(data["admin"] + "/healthz", timeout=5) as response:
            assert json.load(response)["ok"] is True
        exports = subprocess.run(
            [sys.executable, "-m", "sandbox", "env", "--state-dir", str(state)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        url = data["apis"]["serviceusage"]
        assert f"export CLOUDSDK_API_ENDPOINT_OVERRIDES_SERVICEUSAGE={url}/" in exports
        assert f"export MLPLAT_SANDBOX_ENDPOINTS={endpoints.resolve()}" in exports
    finally:
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "sandbox stopped" in out


def test_env_without_a_running_sandbox_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["env", "--state-dir", str(tmp_path)]) == 1
    assert "is `python -m sandbox serve` running?" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--help"])
    assert caught.value.code == 0
    text = capsys.readouterr().out
    assert "--latency {instant,realistic}" in text and "--time-scale" in text


@pytest.mark.parametrize("value", ["1.5", "-0.1", "often"])
def test_an_upgrade_chance_outside_0_to_1_is_refused_before_starting(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--state-dir", str(tmp_path), "--auto-upgrade-chance", value])
    assert caught.value.code == 2
    assert f"'{value}' is not a number from 0 to 1" in capsys.readouterr().err
    assert not (tmp_path / "endpoints.json").exists()
