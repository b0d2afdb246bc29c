"""What a user runs next to mlplat's deployments, started for one test and stopped after it:
the sandbox, a PostgreSQL instance (optional), a `prefect server`, a process work pool with its
worker, and the `prefect` command line pointed at that server.

Every process is started in its own session and stopped by its own id (with what it spawned,
e.g. the worker's flow-run processes), never by name."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mlplat.specs import load_spec
from mlplat_cli.services import sandbox_endpoints
from mlplat_cli.session import sandbox_org
from sandbox.github.component import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).parent / "prefect")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
POOL = "mlplat"
STARTUP_TIMEOUT = 180.0


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel's pick for port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(home: Path) -> dict[str, str]:
    """This process's environment without any Prefect, mlplat or GitHub setting of the
    developer's, and with its own HOME (Prefect profiles and caches stay in the test)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_", "MLPLAT_", "GITHUB_TOKEN"))
    }
    home.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (children first seen, then theirs)."""
    tree = _children()
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of another process still answers signal 0
    with contextlib.suppress(OSError):
        if (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


@dataclass
class Service:
    """A background process with its output in a log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(
        cls, name: str, args: list[str], log: Path, env: dict[str, str], cwd: Path
    ) -> Service:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                cwd=cwd,
            )
        return cls(name, process, log)

    def tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_until(self, what: str, check: Callable[[], bool], timeout: float) -> None:
        started = time.monotonic()
        while not check():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode} before {what}:\n"
                    + self.tail()
                )
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{self.name}: no {what} after {timeout:.0f}s:\n" + self.tail())
            time.sleep(0.3)

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM to the process, its group and everything it spawned; SIGKILL after `grace`."""
        below = descendants(self.process.pid)
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
        for pid in below:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self.process.poll() is not None and not any(_alive(pid) for pid in below):
                return
            time.sleep(0.2)
        self.kill(below)

    def kill(self, below: list[int] | None = None) -> None:
        """SIGKILL to the process, its group and everything it spawned (`below`, default: what
        runs below it now): a crash."""
        below = descendants(self.process.pid) if below is None else below
        if self.process.returncode is None:  # not reaped yet: its PID is still its own
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
        for pid in below:
            _signal(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@dataclass
class Stack:
    """Services started so far, stopped in reverse order (even when a later start failed)."""

    services: list[Service] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def add(self, service: Service) -> Service:
        self.services.append(service)
        self.cleanups.append(service.stop)
        return service

    def close(self) -> None:
        errors = []
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except Exception as exc:  # keep stopping the rest
                errors.append(exc)
        self.cleanups.clear()
        if errors:
            raise errors[0]


# -- the sandbox ----------------------------------------------------------------------------


def start_sandbox(stack: Stack, directory: Path, env: dict[str, str]) -> Path:
    """`python -m sandbox serve` on `directory` with instant latency, the spec's GitHub
    organization created in it; returns its endpoints.json."""
    service = stack.add(
        Service.start(
            "the sandbox",
            [
                sys.executable,
                "-m",
                "sandbox",
                "serve",
                "--state-dir",
                str(directory),
                "--latency",
                "instant",
            ],
            directory / "sandbox.log",
            env,
            ROOT,
        )
    )
    service.wait_until(
        "healthy endpoints", lambda: sandbox_endpoints(directory) is not None, STARTUP_TIMEOUT
    )
    endpoints = directory / "endpoints.json"
    sandbox_org(endpoints, load_spec(ROOT / "infra_specs").platform.gitops.owner)
    return endpoints


# -- PostgreSQL -----------------------------------------------------------------------------


def postgres_available() -> bool:
    needed = ("initdb", "pg_ctl", "postgres", "createdb", "psql")
    return all((PG_BIN / name).is_file() for name in needed)


def _as_postgres_user(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as `nobody`."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "nobody", "--", *args]


@dataclass(frozen=True)
class Postgres:
    """A running PostgreSQL cluster of the test and its `prefect` database."""

    port: int

    @property
    def url(self) -> str:
        """What Prefect's PREFECT_API_DATABASE_CONNECTION_URL takes (asyncpg driver)."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/prefect"

    def query(self, sql: str) -> str:
        """`psql -tAc SQL` on the `prefect` database: the rows, unaligned."""
        psql = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        done = subprocess.run(
            [*psql, "-d", "prefect", "-v", "ON_ERROR_STOP=1", "-tAc", sql],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


def start_postgres(stack: Stack, tmp_path: Path) -> Postgres:
    """A fresh PostgreSQL 15 cluster on a free port with a `prefect` database, stopped (and
    its files removed) by the stack."""
    if os.geteuid() == 0:
        # pytest keeps tmp_path under a root-only (0700) directory, which `nobody` cannot
        # traverse: the cluster lives in a directory of its own under the system temp dir,
        # owned by nobody and linked from tmp_path.
        directory = Path(tempfile.mkdtemp(prefix="mlplat-pg-"))
        nobody = pwd.getpwnam("nobody")
        os.chown(directory, nobody.pw_uid, nobody.pw_gid)
        (tmp_path / "postgres").symlink_to(directory)
        stack.cleanups.append(lambda: shutil.rmtree(directory, ignore_errors=True))
    else:
        directory = tmp_path / "postgres"
        directory.mkdir()
    data = directory / "data"
    log = directory / "postgres.log"
    port = free_port()

    def run(args: list[str], timeout: float = 120) -> None:
        done = subprocess.run(
            _as_postgres_user(args),
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            extra = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
            raise RuntimeError(
                f"{' '.join(args)} exited with {done.returncode}:\n"
                f"{done.stdout[-3000:]}{done.stderr[-3000:]}{extra}"
            )

    run(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ]
    )
    options = (
        f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )

    def stop() -> None:
        subprocess.run(
            _as_postgres_user([str(PG_BIN / "pg_ctl"), "stop", "-D", str(data), "-m", "fast"]),
            cwd=directory,
            capture_output=True,
            timeout=60,
            check=False,
        )
        pid_file = data / "postmaster.pid"
        if pid_file.is_file():  # pg_ctl could not stop it
            with contextlib.suppress(OSError, ValueError):
                _signal(int(pid_file.read_text().split()[0]), signal.SIGKILL)

    stack.cleanups.append(stop)
    pg_ctl = [str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "120", "-D", str(data)]
    run([*pg_ctl, "-l", str(log), "-o", options], timeout=180)
    createdb = [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
    run([*createdb, "prefect"])
    return Postgres(port=port)


# -- Prefect --------------------------------------------------------------------------------


@dataclass
class Prefect:
    """A Prefect server of the test and the `prefect` command line pointed at it."""

    api_url: str
    env: dict[str, str]
    home: Path
    logs: Path
    server: Service | None = None  # its process (None: not started here)

    def cli(
        self, *args: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`prefect ARGS` from the repository root, as a user types it."""
        return subprocess.run(
            [PREFECT, *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def must(self, *args: str, timeout: float = 300) -> str:
        done = self.cli(*args, timeout=timeout)
        assert done.returncode == 0, (
            f"prefect {' '.join(args)} exited with {done.returncode}:\n"
            f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
        )
        return done.stdout


def start_prefect_server(
    stack: Stack,
    tmp_path: Path,
    env: dict[str, str],
    database_url: str | None = None,
    port: int | None = None,
) -> Prefect:
    """`prefect server start` on a free port (or `port`: a restart on the same port) with its
    own PREFECT_HOME (SQLite there, or the database at `database_url`)."""
    port = port or free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home = tmp_path / "prefect-home"
    home.mkdir(parents=True, exist_ok=True)
    client_env = {
        **env,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    server_env = {
        **client_env,
        # the drift deployments' cron schedules would otherwise put scheduled runs on the
        # worker's queue whenever the test crosses one of their minutes
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
    }
    server_env.pop("PREFECT_API_URL")
    if database_url:
        server_env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url
    logs = tmp_path / "logs"
    server = stack.add(
        Service.start(
            "prefect server",
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            logs / "prefect-server.log",
            server_env,
            tmp_path,
        )
    )
    server.wait_until("/api/health", lambda: _healthy(f"{api_url}/health"), STARTUP_TIMEOUT)
    return Prefect(api_url=api_url, env=client_env, home=home, logs=logs, server=server)


def start_worker(stack: Stack, prefect: Prefect, env: dict[str, str]) -> Service:
    """`prefect worker start --pool mlplat` with `env` on top of the CLI's environment (what
    the flow runs need: MLPLAT_HOME, the sandbox's endpoints, the GitHub token)."""
    worker = stack.add(
        Service.start(
            "prefect worker",
            [PREFECT, "worker", "start", "--pool", POOL],
            prefect.logs / "prefect-worker.log",
            # polls for runs every 2 s instead of 10 s: the run starts sooner
            {**prefect.env, "PREFECT_WORKER_QUERY_SECONDS": "2", **env},
            ROOT,
        )
    )
    worker.wait_until(
        "the worker polling its pool", lambda: _worker_online(prefect), STARTUP_TIMEOUT
    )
    return worker


def _worker_online(prefect: Prefect) -> bool:
    request = urllib.request.Request(
        f"{prefect.api_url}/work_pools/{POOL}/workers/filter",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(json.load(response))
    except OSError:
        return False


@contextlib.contextmanager
def stack() -> Iterator[Stack]:
    """A Stack whose services stop when the block exits, however it exits."""
    started = Stack()
    try:
        yield started
    finally:
        started.close()


__all__ = [
    "ADMIN_TOKEN",
    "PG_BIN",
    "POOL",
    "ROOT",
    "Postgres",
    "Prefect",
    "Service",
    "Stack",
    "clean_env",
    "free_port",
    "postgres_available",
    "stack",
    "start_postgres",
    "start_prefect_server",
    "start_sandbox",
    "start_worker",
]
