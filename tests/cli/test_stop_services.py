"""`mlplat stop` (and the benchmarks) stop the services they started, killing one that does
not exit after SIGTERM rather than leaving it running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mlplat_cli.services import record_pid, stop_services

_IGNORES_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
_STOPS = "import time; print('ready', flush=True); time.sleep(60)"


def _service(tmp_path: Path, code: str) -> int:
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    record_pid(tmp_path / "sandbox.pid", process.pid)
    return process.pid


def _exits(pid: int, within: float = 5.0) -> bool:
    """The process exits within `within` seconds (reaped here: it is this test's child)."""
    deadline = time.monotonic() + within
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return True
        except ChildProcessError:  # already reaped by stop_services
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_a_service_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    pid = _service(tmp_path, _IGNORES_SIGTERM)
    stopped = stop_services(tmp_path, wait=1)
    assert stopped == [f"sandbox (pid {pid}, killed: still running 1s after SIGTERM)"]
    assert _exits(pid)
    assert not (tmp_path / "sandbox.pid").exists()


def test_a_service_that_stops_is_waited_for(tmp_path: Path) -> None:
    pid = _service(tmp_path, _STOPS)
    assert stop_services(tmp_path, wait=5) == [f"sandbox (pid {pid})"]
    assert _exits(pid, within=0)  # stop_services returned once it had exited


def test_a_pid_file_whose_process_is_gone_or_reused_signals_nothing(tmp_path: Path) -> None:
    """The PID names another process now (its start time differs): it is left alone."""
    process = subprocess.Popen([sys.executable, "-c", _STOPS], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    (tmp_path / "sandbox.pid").write_text(f"{process.pid} 1\n")  # started at tick 1: not it
    (tmp_path / "prefect.pid").write_text("999999999 5\n")  # no such process
    try:
        assert stop_services(tmp_path, wait=1) == []
        assert process.poll() is None  # still running: never signalled
    finally:
        process.kill()
        process.wait()
    assert not (tmp_path / "sandbox.pid").exists() and not (tmp_path / "prefect.pid").exists()
