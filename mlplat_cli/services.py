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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

PREFECT_PORT = 4200  # preferred; `$MLPLAT_PREFECT_PORT` overrides it
PREFECT_PORT_ENV = "MLPLAT_PREFECT_PORT"
STARTUP_TIMEOUT = 300.0  # a fresh Prefect database's migrations took over 120 s under load
STOP_TIMEOUT = 15.0  # seconds a stopping service may take before it is killed


def state_dir() -> Path:
    """Where the sandbox keeps its state and mlplat keeps pid and log files."""
    from sandbox.__main__ import default_state_dir  # noqa: PLC0415 - loads the whole sandbox

    return default_state_dir()


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter (0700), made or tightened."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read (0600), whatever mode it had."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


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
    """A background service: its own session, its output in `log`, and umask 077, so that
    whatever it writes (databases holding the clusters' Secrets, logs) is its owner's only."""
    private_dir(log.parent)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "ab") as out:
        return subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            umask=0o077,
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
    write_private(pid_file, f"{pid} {_started_at(pid) or ''}".strip() + "\n")


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
    private_dir(directory)
    fd = os.open(directory / "services.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sandbox_endpoints(directory: Path) -> Path | None:
    """The endpoints.json of a sandbox running on `directory`, or None."""
    path = directory / "endpoints.json"
    try:
        written = json.loads(path.read_text())
        admin = str(written["admin"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path if _serves(admin, written, directory) else None


def _serves(admin: str, written: dict[str, object], directory: Path) -> bool:
    """The sandbox answering at `admin` is the one that wrote endpoints.json: its /healthz
    serves the identity token that file holds (a random one each sandbox makes as it starts)
    and names `directory`. Another sandbox that took its ports since is not taken for it."""
    said = own_call(f"{admin}/healthz", timeout=2)
    if not isinstance(said, dict) or not written.get("identity"):
        return False
    if said.get("identity") != written["identity"] or not said.get("state_dir"):
        return False
    return Path(str(said["state_dir"])).resolve() == directory.resolve()


def own_call(url: str, timeout: float = 10, attempts: int = 4) -> object | None:
    """GET one of a local service's own endpoints (a sandbox's /healthz, a Prefect server's
    settings): its JSON answer, or None when nothing answers there (connection refused) or it
    answers 4xx. Like every other call, a transient failure (5xx, 429, a timeout, a dropped
    connection) is retried with backoff; still failing, it counts as no answer."""
    for attempt in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                answer: object = json.load(response)
                return answer
        except urllib.error.HTTPError as exc:
            if exc.code < 500 and exc.code != 429:
                return None
        except ValueError:
            return None  # not JSON: not the service we look for
        except OSError as exc:
            if isinstance(getattr(exc, "reason", exc), ConnectionRefusedError):
                return None
        if attempt < attempts - 1:
            time.sleep(0.25 * 2**attempt)
    return None


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


def preferred_prefect_port() -> int:
    """4200, Prefect's own default, unless `$MLPLAT_PREFECT_PORT` names another."""
    named = os.environ.get(PREFECT_PORT_ENV, "").strip()
    if not named:
        return PREFECT_PORT
    if not named.isdigit() or not 0 < int(named) < 65536:
        raise RuntimeError(f"${PREFECT_PORT_ENV} is {named!r}: expected a TCP port number")
    return int(named)


def _free_port(preferred: int) -> int:
    if not _taken(preferred):
        return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _taken(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def prefect_home(directory: Path) -> Path:
    """Where the Prefect server mlplat starts keeps its database: in the state directory, so
    that it is this platform's own (not the database of another server the user runs)."""
    return directory / "prefect"


def ensure_prefect(directory: Path) -> tuple[str, bool]:
    """PREFECT_API_URL when configured, else a local Prefect server (started if needed)."""
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        return configured, False
    with _starting(directory):
        running = running_prefect(directory)
        if running is not None:
            return running, False
        port = _free_port(preferred_prefect_port())
        for _ in range(3):
            try:
                return _start_prefect(directory, port), True
            except RuntimeError:
                if not _taken(port):  # it failed for another reason than its port
                    raise
                port = _free_port(port)  # taken meanwhile by someone else: another port
        return _start_prefect(directory, port), True


def _start_prefect(directory: Path, port: int) -> str:
    url = f"http://127.0.0.1:{port}/api"
    home = private_dir(prefect_home(directory))
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_HOME": str(home)}
    prefect = str(Path(sys.executable).parent / "prefect")
    log = directory / "prefect.log"
    process = _spawn(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)], log, env
    )
    _up_or_stopped(
        "the Prefect server",
        lambda: process.poll() is None and _prefect_of(url, directory),
        process,
        log,
    )
    record_pid(directory / "prefect.pid", process.pid)
    write_private(directory / "prefect.url", url)
    return url


def _prefect_of(url: str, directory: Path) -> bool:
    """The Prefect server answering at `url` keeps its state in `directory`: its settings
    (`GET /api/admin/settings`, which any Prefect server answers) name the home mlplat gave
    the server it started there. Another server, even one answering /health on that port,
    names its own."""
    settings = own_call(f"{url}/admin/settings", timeout=5)
    if not isinstance(settings, dict) or not settings.get("home"):
        return False
    return Path(str(settings["home"])).resolve() == prefect_home(directory).resolve()


def running_prefect(directory: Path) -> str | None:
    """The URL of the Prefect server mlplat started for `directory`, while that server runs:
    its recorded process is alive, serves the recorded port, and says it keeps its state in
    `directory`. Any other server on that port (one that took it after ours stopped, or
    before ours could bind it) is not taken for ours."""
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
    if str(port).encode() not in command or not _prefect_of(url, directory):
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
