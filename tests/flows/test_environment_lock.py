"""One mutating run per environment of one platform: a run waits while another holds the
environment, says who holds it, and frees the slot of a holder that is gone; platforms (and
sandboxes) that share a Prefect server never wait on each other."""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows._locks import holding, lock_name
from flows._locks.holding import _slot
from flows.provision_environment import context, provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.lock_holder import RunLogs, hold_lock, take_lock

LOG = logging.getLogger("test-lock")
ROOT = Path(__file__).resolve().parents[2]


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run a flow call on a thread (in this context: the session's Prefect settings)."""
    out: list[Any] = []
    ctx = contextvars.copy_context()
    thread = threading.Thread(target=lambda: out.append(ctx.run(call)), daemon=True)
    thread.start()
    return thread, out


@contextmanager
def _held(env: str, spec: Path, endpoints: str, tmp_path: Path) -> Iterator[None]:
    """A hold-lock run holding `env`'s lock (of `spec`'s platform on `endpoints`) meanwhile."""
    release = tmp_path / f"release-{env}-{time.monotonic_ns()}"
    thread, _ = _in_thread(lambda: hold_lock(env, str(spec), endpoints, str(release)))
    name = lock_name(context(env, str(spec), dry_run=False, endpoints=endpoints))
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                if client.read_global_concurrency_limit_by_name(name).active_slots:
                    break
            except Exception:  # not created yet
                pass
            time.sleep(0.1)
        else:
            raise AssertionError("the hold-lock run did not take the lock")
    try:
        yield
    finally:
        release.touch()
        thread.join(60)


def _other_platform(tmp_path: Path) -> Path:
    """The reference spec under another platform name (so other projects)."""
    root = tmp_path / "other-spec"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"))
    platform = yaml.safe_load((root / "platform.yaml").read_text())
    platform["name"] = "mlq"
    (root / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))
    return root


def test_platforms_never_share_a_lock_and_a_run_waits_for_its_own(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    endpoints = str(sandbox.endpoints_path)
    other = _other_platform(tmp_path)
    # Another sandbox sharing this Prefect server: the same spec on another target.
    elsewhere = tmp_path / "elsewhere.json"
    text = sandbox.endpoints_path.read_text()
    elsewhere.write_text(text.replace(sandbox.admin_url, "http://127.0.0.1:9/admin"))
    names = {
        lock_name(context("dev", str(spec), dry_run=False, endpoints=where))
        for spec, where in ((REFERENCE, endpoints), (other, endpoints), (REFERENCE, str(elsewhere)))
    }
    assert len(names) == 3, names

    with RunLogs() as logs:
        # dev of the other platform and dev on the other sandbox are held meanwhile.
        with (
            _held("dev", other, endpoints, tmp_path),
            _held("dev", REFERENCE, str(elsewhere), tmp_path),
        ):
            started = time.monotonic()
            first = provision_environment("dev", spec_dir=str(REFERENCE), endpoints=endpoints)
            took = time.monotonic() - started
        assert first["counts"]["create"] >= 12
        mine = logs.of("provision-environment[dev]")
        assert not [line for line in mine if "waiting for lock" in line or "waited" in line]
        assert any("(it was free)" in line for line in mine), mine
        print(f"dev converged in {took:.1f}s beside two held locks of the same name elsewhere")

        admin(sandbox, "POST", "/counters/reset")
        with _held("dev", REFERENCE, endpoints, tmp_path):
            runner, results = _in_thread(
                lambda: provision_environment("dev", spec_dir=str(REFERENCE), endpoints=endpoints)
            )
            time.sleep(4)
            assert runner.is_alive(), "the run did not wait for the environment"
            assert writes(sandbox) == {}, "nothing may be mutated while another run holds dev"
        runner.join(timeout=300)
    assert results and results[0]["counts"]["noop"] == len(results[0]["rows"])
    second = logs.of("provision-environment[dev]")[len(mine) :]
    waiting = [line for line in second if line.startswith("waiting for lock")]
    assert waiting, second
    assert "flow run 'hold-lock[dev]'" in waiting[0] and "state Running since" in waiting[0]
    assert f"process {os.getpid()} on " in waiting[0]
    assert any("waited for another run of 'dev'" in line for line in second), second


def test_a_free_lock_is_taken_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """On first use (the limit is created) and after: no wait, no "waited" line."""
    endpoints = str(sandbox.endpoints_path)
    with RunLogs() as logs:
        first = take_lock("staging", str(REFERENCE), endpoints)
        again = [take_lock("staging", str(REFERENCE), endpoints) for _ in range(3)]
    print(f"free lock taken in {first * 1000:.0f} ms (limit created), then {again} s")
    assert first < 1.0 and max(again) < 0.5  # ~10-30 ms each measured on an idle server
    lines = logs.of("take-lock[staging]")
    assert not [line for line in lines if "wait" in line], lines
    assert len([line for line in lines if "(it was free)" in line]) == 4


def test_a_killed_holders_slot_is_freed_at_once_naming_it(sandbox: Sandbox, tmp_path: Path) -> None:
    """A holder SIGKILLed (its lease still alive in the server for a minute): the waiting
    run proves its process dead and frees the slot, saying whose it was."""
    endpoints = str(sandbox.endpoints_path)
    out = tmp_path / "holder.log"
    with out.open("wb") as sink:
        holder = subprocess.Popen(
            [sys.executable, "-m", "tests.flows.lock_holder", "dev", str(REFERENCE), endpoints,
             str(tmp_path / "never")],
            env={**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value())},
            stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while "HELD" not in out.read_text():
        assert holder.poll() is None and time.monotonic() < deadline, out.read_text()[-2000:]
        time.sleep(0.2)
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    killed = time.monotonic()
    with RunLogs() as logs:
        took = take_lock("dev", str(REFERENCE), endpoints)
    freed = time.monotonic() - killed
    print(f"a killed holder's slot taken {freed:.1f}s after the kill")
    assert freed < 60 and took < 60, "freed well before its lease would have lapsed"
    lines = logs.of("take-lock[dev]")
    gone = [line for line in lines if line.startswith("freed lock")]
    assert gone, lines
    assert f"process {holder.pid}" in gone[0] and "is dead" in gone[0]
    assert "flow run 'hold-lock[dev]'" in gone[0]
    named = re.search(r"hold-lock\[dev\]' \(([0-9a-f-]{36}),", gone[0])
    assert named, gone[0]
    with get_client(sync_client=True) as client:
        dead = client.read_flow_run(UUID(named.group(1)))
    assert dead.state is not None and dead.state.name == "Crashed", "no longer shown Running"


class _BusyPrefect(ThreadingHTTPServer):
    """A proxy to the session's Prefect API that answers the first `busy` slot requests 503,
    as Prefect's server on SQLite does while "database is locked"."""

    def __init__(self, upstream: str, busy: int) -> None:
        self.upstream, self.busy, self.refused = upstream.rstrip("/"), busy, 0
        self.renewals = 0
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api"


class _Forward(BaseHTTPRequestHandler):
    server: _BusyPrefect

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.endswith("/increment-with-lease") and self.server.refused < self.server.busy:
            self.server.refused += 1
            self._answer(503, b'{"exception_message": "Service Unavailable"}')
            return
        if self.path.endswith("/renew"):
            self.server.renewals += 1
        self._forward("POST", body)

    def do_PATCH(self) -> None:
        self._forward("PATCH", self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def do_GET(self) -> None:
        self._forward("GET", b"")

    def _forward(self, method: str, body: bytes) -> None:
        upstream = self.server.upstream.removesuffix("/api") + self.path
        answer = httpx.request(
            method, upstream, content=body, headers={"Content-Type": "application/json"}
        )
        self._answer(answer.status_code, answer.content)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_a_busy_prefect_server_delays_the_lock_by_seconds_not_minutes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five 503s in a row: Prefect's own client would back off 2+4+8+16+32 s, then fail. Here
    each is asked again about a second later (the bound leaves room for a loaded CI machine)."""
    name = "mlplat-test-busy"
    proxy = _BusyPrefect(str(PREFECT_API_URL.value()), busy=5)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setattr(holding, "RENEW_EVERY_SECONDS", 0.2)
    try:
        started = time.monotonic()
        with temporary_settings({PREFECT_API_URL: proxy.url}), _slot(name, "busy", 60, LOG):
            waited = time.monotonic() - started
            time.sleep(1)  # renewals every 0.2 s meanwhile
            with get_client(sync_client=True) as client:
                held = client.read_global_concurrency_limit_by_name(name)
            assert held.active_slots == 1
    finally:
        proxy.shutdown()
    assert proxy.refused == 5
    assert proxy.renewals >= 1, "the lease was renewed through this run's Prefect API"
    assert waited < 15, f"acquiring took {waited:.1f}s"
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(name).active_slots == 0, "released"


def test_lock_names_are_valid_prefect_names(sandbox: Sandbox) -> None:
    ctx = context("prod", str(REFERENCE), dry_run=False, endpoints=str(sandbox.endpoints_path))
    gcp = dataclasses.replace(ctx, target=dataclasses.replace(ctx.target, admin_url=None))
    assert lock_name(ctx) != lock_name(gcp)
    assert lock_name(ctx).startswith("mlplat-mlp-prod-")
