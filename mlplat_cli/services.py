"""The local services `mlplat up` needs on the sandbox target: the sandbox itself and a Prefect
server, reused when running, otherwise started in the background (and stopped by `mlplat stop`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
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


def _spawn(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )


def _up_or_stopped(
    what: str, ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path
) -> None:
    """Wait until `ready`; a process that does not get there is stopped, and leaves no pid
    file behind."""
    try:
        _wait(what, ready, process, log)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def _started_at(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22): with the
    PID, it names one process, never a later one that reuses the PID. None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def record_pid(pid_file: Path, pid: int) -> None:
    """Name a running service in its pid file: its PID and start time."""
    pid_file.write_text(f"{pid} {_started_at(pid) or ''}".strip() + "\n")


def recorded_process(pid_file: Path) -> int | None:
    """The PID a pid file names, while that very process runs (not a PID reused since)."""
    try:
        words = pid_file.read_text().split()
        pid = int(words[0])
    except (OSError, ValueError, IndexError):
        return None
    started = _started_at(pid)
    if started is None or (len(words) > 1 and words[1] != started):
        return None
    return pid


@contextlib.contextmanager
def _starting(directory: Path) -> Iterator[None]:
    """One command at a time checks for and starts the services of a state directory: two
    started at once share one sandbox and one Prefect server."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "services.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sandbox_endpoints(directory: Path) -> Path | None:
    """The endpoints.json of a sandbox running on `directory`, or None."""
    path = directory / "endpoints.json"
    try:
        admin = json.loads(path.read_text())["admin"]
    except (OSError, ValueError, KeyError):
        return None
    return path if _serves(f"{admin}/healthz", directory) else None


def _serves(healthz: str, directory: Path) -> bool:
    """The sandbox answering `healthz` is the one of `directory` (it says which state
    directory it keeps), not another that took its port since."""
    try:
        with urllib.request.urlopen(healthz, timeout=2) as response:
            said = json.load(response).get("state_dir")
    except (OSError, ValueError, AttributeError):
        return False
    return said is None or Path(str(said)).resolve() == directory.resolve()


def ensure_sandbox(
    directory: Path, latency: str, time_scale: float, *options: str
) -> tuple[Path, bool]:
    """A running sandbox's endpoints.json, starting one if needed; (path, started).
    `options`: more `python -m sandbox serve` arguments for a sandbox started here."""
    with _starting(directory):
        found = sandbox_endpoints(directory)
        if found is not None:
            return found, False
        # A previous sandbox's endpoints.json stays: the new one binds the same ports again
        # when they are free, so that runs still going against them carry on. Ready once
        # rewritten.
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
            dict(os.environ),
        )
        _up_or_stopped(
            "the sandbox",
            lambda: _mtime(path) != previous and sandbox_endpoints(directory) is not None,
            process,
            log,
        )
        record_pid(directory / "sandbox.pid", process.pid)
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
    with _starting(directory):
        running = running_prefect(directory)
        if running is not None:
            return running, False
        port = _free_port(PREFECT_PORT)
        url = f"http://127.0.0.1:{port}/api"
        env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        prefect = str(Path(sys.executable).parent / "prefect")
        log = directory / "prefect.log"
        process = _spawn(
            [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)], log, env
        )
        _up_or_stopped(
            "the Prefect server",
            lambda: process.poll() is None and _healthy(f"{url}/health"),
            process,
            log,
        )
        record_pid(directory / "prefect.pid", process.pid)
        (directory / "prefect.url").write_text(url)
        return url, True


def running_prefect(directory: Path) -> str | None:
    """The URL of the Prefect server mlplat started for `directory`, while that server runs:
    its recorded process is alive, serves the recorded port, and answers. Any other server
    on that port (one that took it after ours stopped, or before ours could bind it) is not
    taken for ours."""
    try:
        url = (directory / "prefect.url").read_text().strip()
    except OSError:
        return None
    pid = recorded_process(directory / "prefect.pid")
    if pid is None:
        return None
    port = urllib.parse.urlsplit(url).port
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if str(port).encode() not in command or not _healthy(f"{url}/health"):
        return None
    return url


def stop_services(directory: Path, wait: float = STOP_TIMEOUT) -> list[str]:
    """Stop the sandbox and Prefect server that `mlplat up` started, waiting up to `wait`
    seconds for each to exit before killing it; returns what stopped."""
    signalled = []
    for name in ("sandbox", "prefect"):
        pid_file = directory / f"{name}.pid"
        pid = recorded_process(pid_file)
        if pid is None:  # gone, or its PID reused by another process: nothing of ours to stop
            pid_file.unlink(missing_ok=True)
            continue
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
