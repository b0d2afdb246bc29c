"""The sandbox HTTP server plus chunked streaming (Kubernetes watches) and optional TLS.

With an SSL context, each connection is sniffed: a TLS ClientHello gets HTTPS, anything else
plain HTTP, on the same port.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.httpserver import Handler, HttpServer, Request, Response


@dataclass
class Streamed:
    """A response sent with chunked transfer encoding; `None` chunks only check the client."""

    status: int
    chunks: Iterator[bytes | None]
    headers: dict[str, str] = field(default_factory=dict)


StreamingHandler = Callable[[Request], Response | Streamed]


_TLS_HANDSHAKE = b"\x16"


def _client_gone(conn: socket.socket) -> bool:
    """True when the peer closed the connection (it sends nothing while a watch streams)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        if not readable:
            return False
        if isinstance(conn, ssl.SSLSocket):
            return True
        return conn.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):
        return True


class StreamingHttpServer(HttpServer):
    """HttpServer whose handler may answer a `Streamed` response."""

    def __init__(
        self,
        handler: StreamingHandler,
        port: int = 0,
        name: str = "sandbox",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._streaming_handler = handler
        self._tls = tls
        super().__init__(cast(Handler, handler), port=port, name=name)

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            broken = False
            secure = False

            def setup(self) -> None:
                if server._tls is not None:
                    try:
                        if self.request.recv(1, socket.MSG_PEEK) == _TLS_HANDSHAKE:
                            self.request = server._tls.wrap_socket(self.request, server_side=True)
                            self.secure = True
                    except (OSError, ssl.SSLError):
                        self.broken = True
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                server._track(self.connection, True)

            def finish(self) -> None:
                server._track(self.connection, False)
                with contextlib.suppress(OSError):
                    super().finish()

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _request(self) -> Request:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                host = self.headers.get("Host") or f"127.0.0.1:{server.port}"
                headers: dict[str, str] = {}
                for key, value in self.headers.items():  # repeated headers join with commas
                    name = key.lower()
                    headers[name] = f"{headers[name]},{value}" if name in headers else value
                return Request(
                    method=self.command,
                    path=unquote(split.path),
                    query=parse_qs(split.query, keep_blank_values=True),
                    raw_query=split.query,
                    headers=headers,
                    body=body,
                    base_url=f"{'https' if self.secure else 'http'}://{host}",
                )

            def handle(self) -> None:
                if self.broken:
                    return
                with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
                    super().handle()  # a client that hangs up is not an error

            def _serve(self) -> None:
                request = self._request()
                try:
                    response = server._streaming_handler(request)
                except Exception:
                    traceback.print_exc(file=sys.stderr)
                    response = Response.json(
                        500, {"kind": "Status", "status": "Failure", "code": 500}
                    )
                if isinstance(response, Streamed):
                    self._stream(response)
                    return
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            def _stream(self, response: Streamed) -> None:
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in response.chunks:
                        if chunk is None:
                            if _client_gone(self.connection):
                                self.close_connection = True
                                return
                            continue
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True
                finally:
                    close = getattr(response.chunks, "close", None)
                    if close is not None:
                        close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        return _Handler
