"""One mutating run per environment: a run waits while another holds the environment."""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import _locks as locks
from flows._locks import _ensure_limit, _slot, lock_name
from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, writes

LOG = logging.getLogger("test-lock")


def test_second_run_waits_for_the_first(sandbox: Sandbox) -> None:
    name = lock_name("dev")
    _ensure_limit(name)
    results: list[dict] = []  # type: ignore[type-arg]
    with concurrency(name, occupy=1, strict=True):  # another run holds dev
        runner = threading.Thread(
            target=lambda: results.append(
                provision_environment(
                    "dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
                )
            )
        )
        runner.start()
        time.sleep(4)
        assert runner.is_alive(), "the run did not wait for the environment"
        assert writes(sandbox) == {}, "nothing may be mutated while another run holds dev"
    runner.join(timeout=300)
    assert results and results[0]["counts"]["create"] >= 12
    assert writes(sandbox), "it ran once the environment was free"


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
    name = lock_name("busy")
    _ensure_limit(name)
    proxy = _BusyPrefect(str(PREFECT_API_URL.value()), busy=5)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setattr(locks, "RENEW_EVERY_SECONDS", 0.2)
    try:
        started = time.monotonic()
        with temporary_settings({PREFECT_API_URL: proxy.url}), _slot(name, 60, LOG):
            waited = time.monotonic() - started
            time.sleep(1)  # renewals every 0.2 s meanwhile
            with get_client(sync_client=True) as client:
                held = client.read_global_concurrency_limit_by_name(name)
            assert held.active_slots == 1
    finally:
        proxy.shutdown()
    assert proxy.refused == 5
    assert proxy.renewals >= 1, "the lease was renewed through this run's Prefect API"
    assert waited < 40, f"acquiring took {waited:.1f}s"
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(name).active_slots == 0, "released"
