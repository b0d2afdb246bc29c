"""A small threaded HTTP/1.1 server on the loopback interface, run in a background thread."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox import latency


@dataclass(frozen=True)
class Request:
    """An HTTP request as the handlers see it."""

    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    base_url: str  # scheme://host:port the client used, for self links

    def json(self) -> Any:
        """The body parsed as JSON; None when empty. Raises ValueError on bad JSON."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class Response:
    """An HTTP response."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        """A JSON response."""
        text = json.dumps(payload, indent=1).encode()
        return cls(
            status, text, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        )


Handler = Callable[[Request], Response]


class HttpServer:
    """Serves `handler` on 127.0.0.1:`port` (0: a free port) from a daemon thread."""

    def __init__(self, handler: Handler, port: int = 0, name: str = "sandbox") -> None:
        self.name = name
        self._handler = handler
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._request_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` (no trailing slash)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.name}-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and drop kept-alive connections, so no old thread touches state after."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes: without NODELAY, Nagle's algorithm
                # and the client's delayed ACK add 40 ms to every kept-alive request.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                server._track(self.connection, True)

            def finish(self) -> None:
                server._track(self.connection, False)
                super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                host = self.headers.get("Host") or f"127.0.0.1:{server.port}"
                request = Request(
                    method=self.command,
                    path=unquote(split.path),
                    query=parse_qs(split.query, keep_blank_values=True),
                    raw_query=split.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    base_url=f"http://{host}",
                )
                try:
                    with latency.subject(f"{self.command} {request.path}"):
                        response = server._handler(request)
                except Exception:
                    traceback.print_exc(file=sys.stderr)
                    response = Response.json(
                        500, {"error": {"code": 500, "message": "internal", "status": "INTERNAL"}}
                    )
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve  # noqa: N815

        return _Handler
