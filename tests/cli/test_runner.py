"""A command's flows run in a thread (mlplat_cli.runner): whatever they wait on, SIGTERM ends
the command at once, and so does a Prefect server that stops answering, with what to do.

Each case runs the runner in its own process (it ends that process), around a call that waits
forever as a run waiting for a lock does, with a stand-in Prefect server that answers /health."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_WAITS_FOREVER = """
import sys, threading
from mlplat_cli import runner
runner.SERVER_GRACE = float(sys.argv[2])
runner.CHECK_EVERY = 0.5
print("waiting", flush=True)
runner.run(threading.Event().wait, runner.Server(url=sys.argv[1]))
"""


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"true")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    running = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        yield running
    finally:
        running.server_close()


def _start(
    server: http.server.ThreadingHTTPServer, grace: float, home: Path
) -> subprocess.Popen[str]:
    """The waiting command, with a Prefect home of its own and the fake server as its API (as
    `mlplat` sets PREFECT_API_URL to the server its runs report to): marking its runs Crashed on
    the way out must neither touch another database nor start an ephemeral Prefect server,
    whose process would outlive the command and hold its stderr open."""
    url = f"http://127.0.0.1:{server.server_address[1]}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    process = subprocess.Popen(
        [sys.executable, "-c", _WAITS_FOREVER, url, str(grace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "PREFECT_HOME": str(home), "PREFECT_API_URL": url},
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "waiting"
    return process


def test_sigterm_ends_a_waiting_command_at_once(
    server: http.server.ThreadingHTTPServer, tmp_path: Path
) -> None:
    process = _start(server, grace=60, home=tmp_path)
    time.sleep(1)  # inside the wait
    sent = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    took = time.monotonic() - sent
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "stopped by SIGTERM" in err
    assert took < 15, f"took {took:.1f}s"  # up to 5 s to mark runs Crashed, then out


def test_a_prefect_server_that_stops_answering_ends_the_command_saying_what_to_do(
    server: http.server.ThreadingHTTPServer, tmp_path: Path
) -> None:
    process = _start(server, grace=2, home=tmp_path)
    time.sleep(2)  # the server answers: the command goes on waiting
    assert process.poll() is None
    server.shutdown()
    server.server_close()
    stopped = time.monotonic()
    _, err = process.communicate(timeout=60)
    took = time.monotonic() - stopped
    assert process.returncode == 1, err
    assert "has not answered for" in err and "run the command again" in err, err
    assert took < 20, f"took {took:.1f}s"
