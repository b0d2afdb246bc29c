"""The admin endpoint (its own port): counters, request log, faults, reset, clock, health.

GET  /healthz            {"ok": true, "state_dir": "...", "identity": "...", "endpoints": {...}}
GET  /counters           {"reads", "writes", "apis": {...}, "methods": {id: {count, reads, …}}}
POST /counters/reset
GET  /requests?limit=N   the most recent requests, oldest first
GET  /faults             the fault configuration in force
PUT  /faults             replace it (JSON body, see sandbox.faults); 400 when invalid
POST /reset              forget all state and counters
GET  /clock              {"now", "offset", "latency": {...}}
GET  /latency            {"samples": [{"key", "subject", "seconds"}]}: what realistic mode drew
POST /clock/advance      {"seconds": N}: move sandbox time forward, settle what is due
GET  /controllers        {"paused": bool}
PUT  /controllers        {"paused": bool}: stop or restart the in-cluster controllers' passes
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.httpserver import HttpServer, Request, Response
from sandbox.runtime import Runtime


class AdminServer:
    """Serves the admin endpoint for one sandbox."""

    def __init__(self, rt: Runtime, endpoints: Callable[[], dict[str, Any]], port: int = 0) -> None:
        self.rt = rt
        self._endpoints = endpoints
        self.http = HttpServer(self.handle, port=port, name="admin")

    @property
    def url(self) -> str:
        """Base URL of the admin endpoint."""
        return self.http.url

    def handle(self, request: Request) -> Response:
        """Answer one admin request."""
        rt = self.rt
        route = (request.method, request.path.rstrip("/") or "/")
        try:
            body = request.json()
        except ValueError as exc:
            return _error(400, f"invalid JSON: {exc}")
        if route == ("GET", "/healthz"):
            endpoints = self._endpoints()
            body = {
                "ok": True,
                "state_dir": endpoints.get("state_dir"),
                "identity": endpoints.get("identity"),
                "endpoints": endpoints,
            }
            return Response.json(200, body)
        if route == ("GET", "/counters"):
            return Response.json(200, rt.counters.snapshot())
        if route == ("POST", "/counters/reset"):
            rt.counters.reset()
            return Response.json(200, {})
        if route == ("GET", "/requests"):
            limit = request.query.get("limit", [""])[-1]
            return Response.json(
                200, {"requests": rt.counters.requests(int(limit) if limit.isdigit() else None)}
            )
        if route == ("GET", "/faults"):
            return Response.json(200, rt.faults.config())
        if route == ("PUT", "/faults"):
            try:
                rt.faults.configure(body or {})
            except (ValueError, TypeError, AttributeError) as exc:
                return _error(400, str(exc))
            return Response.json(200, rt.faults.config())
        if route == ("POST", "/reset"):
            rt.reset()
            return Response.json(200, {})
        if route == ("GET", "/clock"):
            return Response.json(200, _clock(rt))
        if route == ("GET", "/latency"):
            return Response.json(200, {"samples": rt.latency.journal()})
        if route == ("POST", "/clock/advance"):
            try:
                rt.advance(float((body or {}).get("seconds", 0)))
            except (ValueError, TypeError) as exc:
                return _error(400, str(exc))
            return Response.json(200, _clock(rt))
        if route == ("GET", "/controllers"):
            return Response.json(200, {"paused": rt.controllers_paused.is_set()})
        if route == ("PUT", "/controllers"):
            paused = (body or {}).get("paused")
            if not isinstance(paused, bool):
                return _error(400, 'body: expected {"paused": true|false}')
            if paused:
                rt.controllers_paused.set()
            else:
                rt.controllers_paused.clear()
            return Response.json(200, {"paused": paused})
        return _error(404, f"no admin route {request.method} {request.path}")


def _clock(rt: Runtime) -> dict[str, Any]:
    return {"now": rt.now(), "offset": rt.clock.offset, "latency": rt.latency.describe()}


def _error(code: int, message: str) -> Response:
    return Response.json(code, {"error": {"code": code, "message": message}})
