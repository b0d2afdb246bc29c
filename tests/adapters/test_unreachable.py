"""Connection failures of the HTTP libraries the adapters use, met for real on loopback: a port
nobody listens on, and a server that reads the request and hangs up without answering."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httplib2  # type: ignore[import-untyped]
import pytest
import requests
import urllib3

from mlplat import retry
from mlplat.errors import PermanentError, TransientError
from mlplat.unreachable import REFUSED_WAIT, reachable, translate


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def closed_url() -> str:
    return f"http://127.0.0.1:{_free_port()}/v1/things"


@pytest.fixture
def hangs_up() -> Iterator[str]:
    """A server that reads each request and closes the connection without an answer."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1/things"
    stop.set()
    thread.join()
    server.close()


def _raised(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except Exception as exc:
        return exc
    raise AssertionError("no error")


@pytest.mark.parametrize(
    "call",
    [
        lambda url: requests.get(url, timeout=5),  # google-cloud-* REST, PyGithub
        lambda url: requests.post(url, json={}, timeout=5),
        lambda url: urllib3.PoolManager().request("POST", url),  # the Kubernetes client
        lambda url: httplib2.Http().request(url, "POST"),  # googleapiclient (IAM)
    ],
    ids=["requests-get", "requests-post", "urllib3-post", "httplib2-post"],
)
def test_a_refused_connection_is_transient_whatever_the_call(
    closed_url: str, call: Callable[[str], object]
) -> None:
    error = translate(_raised(lambda: call(closed_url)))
    assert isinstance(error, TransientError)
    assert error.retry_after == REFUSED_WAIT


def test_a_read_whose_answer_was_lost_is_transient(hangs_up: str) -> None:
    error = translate(_raised(lambda: requests.get(hangs_up, timeout=5)))
    assert isinstance(error, TransientError)
    assert error.retry_after is None


def test_a_write_whose_answer_was_lost_is_not_repeated(hangs_up: str) -> None:
    error = translate(_raised(lambda: requests.post(hangs_up, json={}, timeout=5)))
    assert isinstance(error, PermanentError)
    assert "may have been made" in str(error)


def test_other_errors_pass_through() -> None:
    assert translate(ValueError("no")) is None
    with pytest.raises(ValueError, match="no"):
        reachable(lambda: int("no"))


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        return


def test_a_call_rides_through_a_server_that_comes_up_late() -> None:
    port = _free_port()
    servers: list[HTTPServer] = []

    def come_up() -> None:
        time.sleep(1.5)
        servers.append(HTTPServer(("127.0.0.1", port), _Ok))
        servers[0].serve_forever(poll_interval=0.05)

    threading.Thread(target=come_up, daemon=True).start()
    waits: list[float] = []
    started = time.monotonic()
    try:
        answer = retry.call(
            lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=5).text,
            on_retry=lambda attempt, error, wait: waits.append(wait),
        )
    finally:
        while not servers:
            time.sleep(0.05)
        servers[0].shutdown()
        servers[0].server_close()
    assert answer == "ok"
    assert waits and all(wait >= REFUSED_WAIT for wait in waits)
    assert time.monotonic() - started >= 1.5
