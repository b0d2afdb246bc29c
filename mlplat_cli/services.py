"""The local services `mlplat up` needs on the sandbox target: the sandbox itself and a Prefect
server, reused when running, otherwise started in the background (and stopped by `mlplat stop`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

PREFECT_PORT = 4200
STARTUP_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0  # seconds a stopping service may take before it is killed


def state_dir() -> Path:
    """Where the sandbox keeps its state and mlplat keeps pid and log files."""
    from sandbox.__main__ import default_state_dir  # noqa: PLC0415 - loads the whole sandbox

    return default_state_dir()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait(
    what: str, check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path
) -> None:
    started = time.monotonic()
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see {log}")
        if time.monotonic() - started > STARTUP_TIMEOUT:
            raise RuntimeError(f"{what} did not come up in {STARTUP_TIMEOUT:.0f}s; see {log}")
        time.sleep(0.3)


def _spawn(
    args: list[str], log: Path, pid_file: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    pid_file.write_text(str(process.pid))
    return process


def sandbox_endpoints(directory: Path) -> Path | None:
    """The endpoints.json of a sandbox running on `directory`, or None."""
    path = directory / "endpoints.json"
    try:
        admin = json.loads(path.read_text())["admin"]
    except (OSError, ValueError, KeyError):
        return None
    return path if _healthy(f"{admin}/healthz") else None


def ensure_sandbox(
    directory: Path, latency: str, time_scale: float, *options: str
) -> tuple[Path, bool]:
    """A running sandbox's endpoints.json, starting one if needed; (path, started).
    `options`: more `python -m sandbox serve` arguments for a sandbox started here."""
    found = sandbox_endpoints(directory)
    if found is not None:
        return found, False
    directory.mkdir(parents=True, exist_ok=True)
    # A previous sandbox's endpoints.json stays: the new one binds the same ports again when
    # they are free, so that runs still going against them carry on. Ready once rewritten.
    path = directory / "endpoints.json"
    previous = _mtime(path)
    log = directory / "sandbox.log"
    process = _spawn(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--state-dir",
            str(directory),
            "--latency",
            latency,
            "--time-scale",
            str(time_scale),
            *options,
        ],
        log,
        directory / "sandbox.pid",
        dict(os.environ),
    )
    _wait(
        "the sandbox",
        lambda: _mtime(path) != previous and sandbox_endpoints(directory) is not None,
        process,
        log,
    )
    return path, True


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_prefect(directory: Path) -> tuple[str, bool]:
    """PREFECT_API_URL when configured, else a local Prefect server (started if needed)."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        return configured, False
    url_file = directory / "prefect.url"
    if url_file.is_file():
        url = url_file.read_text().strip()
        if _healthy(f"{url}/health"):
            return url, False
    port = _free_port(PREFECT_PORT)
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    prefect = str(Path(sys.executable).parent / "prefect")
    log = directory / "prefect.log"
    directory.mkdir(parents=True, exist_ok=True)
    process = _spawn(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        log,
        directory / "prefect.pid",
        env,
    )
    _wait("the Prefect server", lambda: _healthy(f"{url}/health"), process, log)
    url_file.write_text(url)
    return url, True


def stop_services(directory: Path, wait: float = STOP_TIMEOUT) -> list[str]:
    """Stop the sandbox and Prefect server that `mlplat up` started, waiting up to `wait`
    seconds for each to exit before killing it; returns what stopped."""
    signalled = []
    for name in ("sandbox", "prefect"):
        pid_file = directory / f"{name}.pid"
        if not pid_file.is_file():
            continue
        pid = int(pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
            signalled.append((name, pid))
        except ProcessLookupError:
            pass
        pid_file.unlink(missing_ok=True)
    (directory / "prefect.url").unlink(missing_ok=True)
    stopped = []
    deadline = time.monotonic() + wait
    for name, pid in signalled:
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _gone(pid):
            stopped.append(f"{name} (pid {pid})")
            continue
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        stopped.append(f"{name} (pid {pid}, killed: still running {wait:.0f}s after SIGTERM)")
    return stopped


def _gone(pid: int) -> bool:
    """The process has exited (reaped here when it is this process's child)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False
