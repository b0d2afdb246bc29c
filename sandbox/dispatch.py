"""Serving one Google API: route by discovery, inject faults, check the request, call the handler.

Stored state uses Google's real hosts in links (`https://compute.googleapis.com/compute/v1/…`);
responses rewrite them to the address the client used, and requests the other way round.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from typing import Any

from sandbox.api import Call, GoogleApi, HandlerFn, Handlers
from sandbox.counters import RequestRecord
from sandbox.discovery import Discovery, Method, RouteTable, load
from sandbox.errors import ApiError, invalid_argument, not_found, unimplemented
from sandbox.httpserver import HttpServer, Request, Response
from sandbox.partial import Tree, parse, select
from sandbox.runtime import Runtime
from sandbox.schema import SchemaChecker


class ApiServer:
    """An HTTP server for one GoogleApi on its own loopback port."""

    def __init__(self, api: GoogleApi, rt: Runtime, port: int = 0) -> None:
        self.api = api
        self.rt = rt
        self._functions: dict[tuple[str, str], HandlerFn] = {}
        self._checkers: dict[str, SchemaChecker] = {}
        self._body_fields: dict[tuple[str, str], str] = {}
        self._roots: list[str] = []
        methods: list[Method] = []
        for name in api.documents:
            document = load(name)
            sets = [h for h in api.handlers if h.document == name]
            enums = next((h.enums for h in sets if h.enums is not None), None)
            extra = {key: spec for h in sets for key, spec in h.extra_query.items()}
            self._checkers[name] = SchemaChecker(document, enums, extra)
            methods.extend(document.methods.values())
            self._roots.append(document.root_url)
            for handlers in sets:
                self._register(document, handlers)
        self._routes = RouteTable(methods)
        self.http = HttpServer(self.handle, port=port, name=api.name)

    def _register(self, document: Discovery, handlers: Handlers) -> None:
        for method_id, fn in handlers.functions.items():
            if method_id not in document.methods:
                raise ValueError(f"{document.name} has no method {method_id}")
            if (document.name, method_id) in self._functions:
                raise ValueError(f"{document.name}: {method_id} has two handlers")
            self._functions[(document.name, method_id)] = fn
        for method_id, body_field in handlers.body_fields.items():
            self._body_fields[(document.name, method_id)] = body_field

    @property
    def url(self) -> str:
        """Base URL of this API."""
        return self.http.url

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request."""
        started = time.monotonic()
        method: Method | None = None
        fault = ""
        try:
            match = self._routes.match(request.method, request.path)
            if match is None:
                raise not_found(f"The requested URL {request.path} was not found on this server.")
            method, params = match
            fn = self._functions.get((method.document, method.id))
            if fn is None:
                raise unimplemented(f"Method {method.id} is not implemented by the sandbox.")
            injected = self.rt.faults.request_fault(self.api.name, method.id)
            if injected is not None:
                fault = injected.label
                time.sleep(injected.delay)
                raise injected.error
            selection = _selection(request)
            self.rt.operations.settle_due()
            call = self._call(request, method, params)
            pause = self.rt.latency.call(method.id, write=not method.is_read)
            if pause:
                time.sleep(pause)
            response = self._json(200, select(fn(call), selection), request.base_url)
        except ApiError as exc:
            body = exc.body(legacy_errors=self.api.legacy_errors)
            response = self._json(exc.code, body, request.base_url, exc.headers)
        except Exception as exc:  # a sandbox bug: answer like Google's 500, keep serving
            traceback.print_exc(file=sys.stderr)
            error = ApiError(500, f"Internal error encountered: {exc}", "INTERNAL")
            response = self._json(500, error.body(self.api.legacy_errors), request.base_url)
        if method is not None and not fault:
            malformed = self.rt.faults.malform(
                self.api.name, method.id, response.status, response.body
            )
            if malformed is not None:
                fault = malformed.label
                response = Response(response.status, malformed.body, response.headers)
        self.rt.counters.record(
            RequestRecord(
                time=self.rt.now(),
                api=self.api.name,
                method="" if method is None else method.id,
                http_method=request.method,
                path=request.path,
                query=request.raw_query,
                status=response.status,
                read=True if method is None else method.is_read,
                fault=fault,
                millis=round((time.monotonic() - started) * 1000, 2),
            )
        )
        return response

    def _call(self, request: Request, method: Method, params: dict[str, str]) -> Call:
        checker = self._checkers[method.document]
        query = checker.query(method, request.query)
        raw = request.body.replace(f"{request.base_url}/".encode(), self._roots[0].encode())
        try:
            parsed = json.loads(raw) if raw.strip() else None
        except ValueError as exc:
            raise invalid_argument(f"Invalid JSON payload received. {exc}") from None
        body_field = self._body_fields.get((method.document, method.id))
        body = checker.body(method, parsed, body_field)
        return Call(
            rt=self.rt,
            api=self.api.name,
            method=method,
            params=params,
            query=query,
            body=body,
            base_url=request.base_url,
        )

    def _json(
        self, status: int, payload: Any, base_url: str, headers: dict[str, str] | None = None
    ) -> Response:
        text = json.dumps(payload, indent=1)
        for root in self._roots:
            text = text.replace(root, f"{base_url}/")
        return Response(
            status,
            text.encode(),
            {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        )


def _selection(request: Request) -> Tree | None:
    """The request's `fields` selection (Google's partial response); None: everything."""
    wanted = (request.query.get("fields") or request.query.get("$fields") or [""])[0]
    return parse(wanted) if wanted else None
