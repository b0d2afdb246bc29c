"""mlplat uses only the services it started for a state directory: a Prefect server on the
recorded port that is not its own is not taken for its own, a sandbox that fails to start
leaves no pid file, and two commands starting at once share one sandbox."""

from __future__ import annotations

import http.server
import json
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlplat_cli import services
from mlplat_cli.services import ensure_sandbox, running_prefect, stop_services
from sandbox.cloud import Sandbox


class _Healthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"true"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def foreign_server() -> Iterator[int]:
    """Another Prefect server, as far as `/api/health` tells: any 200."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_healthy_server_that_mlplat_did_not_start_is_not_used(
    tmp_path: Path, foreign_server: int
) -> None:
    (tmp_path / "prefect.url").write_text(f"http://127.0.0.1:{foreign_server}/api")
    assert running_prefect(tmp_path) is None  # no pid file: not ours
    services.record_pid(tmp_path / "prefect.pid", 1)  # a live process, but not serving there
    assert running_prefect(tmp_path) is None


def test_a_sandbox_that_fails_to_start_leaves_no_pid_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="the sandbox exited with"):
        ensure_sandbox(tmp_path / "state", "no-such-latency", 1.0)
    assert not (tmp_path / "state" / "sandbox.pid").exists()


def test_two_commands_starting_at_once_share_one_sandbox(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    results: list[tuple[Path, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(ensure_sandbox(directory, "instant", 1)))
        for _ in range(2)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(started for _, started in results) == [False, True]
        assert {path for path, _ in results} == {directory / "endpoints.json"}
        admin = json.loads((directory / "endpoints.json").read_text())["admin"]
        assert services.sandbox_endpoints(directory) is not None, admin
    finally:
        stopped = stop_services(directory)
    assert len(stopped) == 1 and stopped[0].startswith("sandbox (pid ")


def test_a_sandbox_of_another_state_directory_is_not_taken_for_ours(tmp_path: Path) -> None:
    """Our endpoints.json names ports another sandbox now serves: it says whose it is."""

    with Sandbox(tmp_path / "theirs", apis=[], components=[]) as theirs:
        mine = tmp_path / "mine"
        mine.mkdir()
        (mine / "endpoints.json").write_text(theirs.endpoints_path.read_text())
        assert services.sandbox_endpoints(mine) is None
        assert services.sandbox_endpoints(tmp_path / "theirs") == theirs.endpoints_path


def test_a_sandbox_serving_another_identity_token_is_not_taken_for_ours(tmp_path: Path) -> None:
    """Same state directory, same ports, but not the sandbox that wrote endpoints.json (as
    after a restart whose endpoints.json another process rewrote): its token tells."""
    with Sandbox(tmp_path / "mine", apis=[], components=[]) as running:
        assert services.sandbox_endpoints(tmp_path / "mine") == running.endpoints_path
        written = json.loads(running.endpoints_path.read_text())
        assert len(written["identity"]) == 32
        written["identity"] = "0" * 32
        running.endpoints_path.write_text(json.dumps(written))
        assert services.sandbox_endpoints(tmp_path / "mine") is None


def test_the_preferred_prefect_port_is_overridable_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLPLAT_PREFECT_PORT", raising=False)
    assert services.preferred_prefect_port() == 4200
    monkeypatch.setenv("MLPLAT_PREFECT_PORT", "4321")
    assert services.preferred_prefect_port() == 4321
    monkeypatch.setenv("MLPLAT_PREFECT_PORT", "http")
    with pytest.raises(RuntimeError, match=r"\$MLPLAT_PREFECT_PORT is 'http'"):
        services.preferred_prefect_port()


def test_a_server_on_the_preferred_port_makes_mlplat_pick_another(foreign_server: int) -> None:
    assert services._free_port(foreign_server) != foreign_server


def test_the_state_directory_and_database_are_the_owners_only(tmp_path: Path) -> None:
    """Made by the sandbox, or made before with open modes: 0700 and 0600 after a start."""
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    (state / "state.sqlite3").touch(mode=0o644)
    (state / "endpoints.json").write_text("{}")
    (state / "endpoints.json").chmod(0o644)
    with Sandbox(state, apis=[], components=[]):
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [state, *state.iterdir()]}
    assert modes.pop("state") == 0o700
    assert modes == dict.fromkeys(modes, 0o600) and {"state.sqlite3", "endpoints.json"} <= set(
        modes
    ), modes


class _Flaky(http.server.BaseHTTPRequestHandler):
    """503 twice, then a JSON answer; 404 on /missing. Counts what it was asked."""

    asked: list[str] = []  # reset by the test

    def do_GET(self) -> None:
        self.asked.append(self.path)
        if self.path == "/missing":
            code, body = 404, b"{}"
        elif self.asked.count(self.path) <= 2:
            code, body = 503, b"{}"
        else:
            code, body = 200, b'{"ok": true}'
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_services_own_endpoint_is_retried_on_transient_answers_only() -> None:
    _Flaky.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert services.own_call(f"{base}/healthz") == {"ok": True}
        assert _Flaky.asked.count("/healthz") == 3  # two 503s, then the answer
        assert services.own_call(f"{base}/missing") is None
        assert _Flaky.asked.count("/missing") == 1  # a 404 is an answer: not asked again
    finally:
        server.shutdown()
        server.server_close()
    started = time.monotonic()
    assert services.own_call(f"{base}/healthz") is None  # nothing listens: refused at once
    assert time.monotonic() - started < 1
