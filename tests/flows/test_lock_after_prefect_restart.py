"""A Prefect server killed and restarted while runs hold environment locks: the server keeps
the slots (in its database) and loses their leases (in its memory). A holder that lives on
frees its slot when it ends; the slot of a holder that died meanwhile is freed by the next
run, which proves its process dead. Nothing waits for a lease that no longer exists."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows._locks import lock_name
from sandbox.cloud import Sandbox
from tests.e2e.prefect_stack import PREFECT, Service, _healthy, clean_env, free_port
from tests.flows.conftest import REFERENCE
from tests.flows.lock_holder import context

ROOT = Path(__file__).resolve().parents[2]
STARTUP = 180.0


class Server:
    """`prefect server start` on a fixed port and home, which can be killed and started again."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.env = {
            **clean_env(tmp_path / "home"),
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        self.log = tmp_path / "prefect-server.log"
        self.cwd = tmp_path
        self.service: Service | None = None

    def start(self) -> None:
        args = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        self.service = Service.start("prefect server", args, self.log, self.env, self.cwd)
        self.service.wait_until("/api/health", lambda: _healthy(f"{self.api}/health"), STARTUP)

    def kill(self) -> None:
        assert self.service is not None
        os.killpg(self.service.process.pid, signal.SIGKILL)
        self.service.process.wait(timeout=30)
        self.service.stop(grace=1)  # whatever it spawned


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path)
    running.start()
    try:
        yield running
    finally:
        if running.service is not None:
            running.service.stop()


def _holder(
    server: Server, env: str, endpoints: str, release: Path, log: Path
) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "tests.flows.lock_holder", env, str(REFERENCE), endpoints]
    with log.open("wb") as out:
        return subprocess.Popen(
            [*args, str(release)],
            env={**os.environ, "PREFECT_API_URL": server.api},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )


def _until_held(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while "HELD" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def _slots(name: str) -> int:
    with get_client(sync_client=True) as client:
        return int(client.read_global_concurrency_limit_by_name(name).active_slots)


@pytest.mark.timeout(600)
def test_a_prefect_restart_leaves_no_slot_taken(
    sandbox: Sandbox, server: Server, tmp_path: Path
) -> None:
    endpoints = str(sandbox.endpoints_path)
    names = {
        env: lock_name(context(env, str(REFERENCE), False, endpoints)) for env in ("dev", "staging")
    }
    release = tmp_path / "release-dev"
    logs = {env: tmp_path / f"holder-{env}.log" for env in names}
    lives = _holder(server, "dev", endpoints, release, logs["dev"])
    dies = _holder(server, "staging", endpoints, tmp_path / "never", logs["staging"])
    try:
        _until_held(lives, logs["dev"])
        _until_held(dies, logs["staging"])

        server.kill()
        os.killpg(dies.pid, signal.SIGKILL)  # this holder dies while the server is down
        dies.wait()
        server.start()
        restarted = time.monotonic()
        with temporary_settings({PREFECT_API_URL: server.api}):
            assert _slots(names["dev"]) == 1 and _slots(names["staging"]) == 1, (
                "the restarted server keeps the slots (their leases are gone)"
            )
            release.touch()  # the live holder ends: it gives its slot back without a lease
            assert lives.wait(timeout=120) == 0, logs["dev"].read_text()[-3000:]
            assert _slots(names["dev"]) == 0, logs["dev"].read_text()[-3000:]

            # the next runs, in their own process too (a flow run in this one would bind
            # Prefect's events worker to this server for the rest of the session)
            out = tmp_path / "next.log"
            with out.open("wb") as sink:
                taker = subprocess.run(
                    [sys.executable, "-m", "tests.flows.lock_holder", "take", "staging,dev",
                     str(REFERENCE), endpoints],
                    env={**os.environ, "PREFECT_API_URL": server.api},
                    stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, timeout=300, check=False,
                )  # fmt: skip
            after = time.monotonic() - restarted
            output = out.read_text(errors="replace")
            assert taker.returncode == 0, output[-3000:]
            took = {
                words[1]: float(words[2])
                for words in (line.split() for line in output.splitlines())
                if words[:1] == ["TOOK"]
            }
            print(f"after the restart: both locks taken within {after:.1f}s; {took}")
            assert after < 120 and took["staging"] < 120 and took["dev"] < 1
            freed = [line for line in output.splitlines() if "freed lock" in line]
            assert freed and f"process {dies.pid}" in freed[0], output[-3000:]
            assert "is dead" in freed[0] and names["staging"] in freed[0], freed[0]
            assert _slots(names["staging"]) == 0 and _slots(names["dev"]) == 0
    finally:
        for process in (lives, dies):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
