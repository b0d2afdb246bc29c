"""The GitHub port: REST under /api/v3, git smart HTTP under /{owner}/{repo}.git; counted, faulted.

Counters: `github.<METHOD> <route template>` for REST (GET is a read), `git.upload-pack` and
`git.receive-pack` for git (fetches and advertisements are reads). Faults: rules with
`api: github` (methods as above) or `api: git`; an injected 429 is answered as GitHub's secondary
rate limit (403 with `Retry-After`), other codes with GitHub's JSON error.
"""

from __future__ import annotations

import io
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from io import BufferedIOBase
from typing import Any

from sandbox.counters import RequestRecord
from sandbox.github import (
    api_branches,
    api_contents,
    api_gitdata,
    api_pulls,
    api_refs,
    api_repos,
    api_reviews,
)
from sandbox.github.accounts import Account
from sandbox.github.credentials import token_from
from sandbox.github.ratelimit import overview
from sandbox.github.rest import API_PREFIX, DOCS, Ctx, GitHubError, Reply, Route, match
from sandbox.github.service import Service
from sandbox.github.smarthttp import GIT_PATH, classify, serve, text
from sandbox.httpserver import HttpServer, Request, Response

ROUTES: list[Route] = [
    *api_repos.ROUTES,
    *api_branches.ROUTES,
    *api_refs.ROUTES,
    *api_gitdata.ROUTES,
    *api_contents.ROUTES,
    *api_pulls.ROUTES,
    *api_reviews.ROUTES,
]
RATE_LIMIT = "github.GET /rate_limit"
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {id}."
)
AUTH_DOCS = "https://docs.github.com/rest/users/users#get-the-authenticated-user"
RATE_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
SERVER_ERRORS = {
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Timeout",
}


def read_chunked(stream: BufferedIOBase) -> bytes:
    """A chunked request body (trailers skipped)."""
    body = bytearray()
    while True:
        size = int(stream.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while stream.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body)
        body += stream.read(size)
        stream.readline()


class ChunkedHttpServer(HttpServer):
    """The sandbox HTTP server, also reading chunked request bodies (large git pushes)."""

    def _request_class(self) -> type[BaseHTTPRequestHandler]:
        base = super()._request_class()
        plain: Callable[[BaseHTTPRequestHandler], None] = base._serve  # type: ignore[attr-defined]

        def serve(handler: BaseHTTPRequestHandler) -> None:
            if "chunked" not in (handler.headers.get("Transfer-Encoding") or "").lower():
                plain(handler)
                return
            body = read_chunked(handler.rfile)
            del handler.headers["Transfer-Encoding"]
            handler.headers["Content-Length"] = str(len(body))
            stream, handler.rfile = handler.rfile, io.BytesIO(body)
            try:
                plain(handler)
            finally:
                handler.rfile = stream

        verbs = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
        return type("ChunkedHandler", (base,), {f"do_{verb}": serve for verb in verbs})


def _json(status: int, payload: Any, headers: dict[str, str]) -> Response:
    body = b"" if payload is None else json.dumps(payload, indent=1).encode()
    base = {"Content-Type": "application/json; charset=utf-8"} if payload is not None else {}
    return Response(status, body, {**base, **headers})


class Front:
    """Routes a request to REST or git and records it."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def handle(self, request: Request) -> Response:
        """Answer one request."""
        started = time.monotonic()
        git = GIT_PATH.match(request.path)
        if git is not None:
            api = "git"
            response, method, read, fault = self._git(request, git.groupdict())
        else:
            api = "github"
            response, method, read, fault = self._rest(request)
        self.svc.rt.counters.record(
            RequestRecord(
                time=self.svc.now(),
                api=api,
                method=method,
                http_method=request.method,
                path=request.path,
                query=request.raw_query,
                status=response.status,
                read=read,
                fault=fault,
                millis=round((time.monotonic() - started) * 1000, 2),
            )
        )
        return response

    def _fault(self, api: str, method: str) -> tuple[int, float, str] | None:
        injected = self.svc.rt.faults.request_fault(api, method)
        if injected is None:
            return None
        time.sleep(injected.delay)
        retry = injected.error.headers.get("Retry-After", "60")
        return injected.error.code, float(retry), injected.label

    def _git(self, request: Request, parts: dict[str, str]) -> tuple[Response, str, bool, str]:
        call = classify(request, parts["action"])
        fault = self._fault("git", call.method) if call.method else None
        if fault is not None:
            failed = text(fault[0], "The requested URL returned an error.")
            return failed, call.method, call.read, fault[2]
        try:
            response = serve(self.svc, request, parts["owner"], parts["repo"], parts["action"])
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = text(500, "Internal error.")
        return response, call.method, call.read, ""

    def _rest(self, request: Request) -> tuple[Response, str, bool, str]:
        headers = {"X-GitHub-Media-Type": "github.v3", "X-GitHub-Request-Id": uuid.uuid4().hex[:16]}
        token = token_from(request.headers.get("authorization", ""))
        user = None if token is None else self.svc.authenticate(token)
        who = user.login.lower() if user else ""
        headers.update(self.svc.limiter.peek(who, self.svc.now()).headers())
        read = request.method in ("GET", "HEAD")
        path = request.path
        found = None
        if path.startswith(API_PREFIX + "/"):
            found = match(ROUTES, request.method, path[len(API_PREFIX) :])
        if request.method == "GET" and path.rstrip("/") == API_PREFIX + "/rate_limit":
            # GET /rate_limit does not count against the limit
            body = overview(self.svc.limiter.peek(who, self.svc.now()))
            return _json(200, body, headers), RATE_LIMIT, read, ""
        if found is None:
            return _json(404, GitHubError(404, "Not Found").payload(), headers), "", read, ""
        route, params = found
        fault = self._fault("github", route.method_id)
        if fault is not None:
            error = _faulted(fault[0], fault[1], headers["X-GitHub-Request-Id"])
            response = _json(error.status, error.payload(), {**headers, **error.headers})
            return response, route.method_id, read, fault[2]
        try:
            reply = self._call(request, route, params, token=token, user=user, headers=headers)
            response = _json(reply.status, reply.payload, {**headers, **reply.headers})
        except GitHubError as exc:
            response = _json(exc.status, exc.payload(), {**headers, **exc.headers})
        except Exception as exc:  # a sandbox bug: answer 500, keep serving
            traceback.print_exc(file=sys.stderr)
            error = GitHubError(500, f"Server Error: {exc}")
            response = _json(500, error.payload(), headers)
        malformed = self.svc.rt.faults.malform(
            "github", route.method_id, response.status, response.body
        )
        if malformed is not None:
            corrupted = Response(response.status, malformed.body, response.headers)
            return corrupted, route.method_id, read, malformed.label
        return response, route.method_id, read, ""

    def _call(
        self,
        request: Request,
        route: Route,
        params: dict[str, str],
        *,
        token: str | None,
        user: Account | None,
        headers: dict[str, str],
    ) -> Reply:
        if token is None:
            raise GitHubError(401, "Requires authentication", documentation_url=AUTH_DOCS)
        if user is None:
            raise GitHubError(401, "Bad credentials", documentation_url=DOCS)
        quota = self.svc.limiter.take(user.login.lower(), self.svc.now())
        if quota is None:
            message = f"API rate limit exceeded for user ID {user.id}."
            raise GitHubError(403, message, documentation_url=RATE_DOCS)
        headers.update(quota.headers())
        pause = self.svc.rt.latency.call(route.method_id, write=route.method != "GET")
        if pause:
            time.sleep(pause)
        return route.handler(Ctx(self.svc, request, params, user))


def _faulted(code: int, retry: float, request_id: str) -> GitHubError:
    """The error an injected fault answers: 429 becomes GitHub's secondary rate limit."""
    if code == 429:
        message = SECONDARY.format(id=request_id)
        headers = {"Retry-After": str(max(1, round(retry)))}
        return GitHubError(403, message, documentation_url=RATE_DOCS, headers=headers)
    return GitHubError(code, SERVER_ERRORS.get(code, "Server Error"))


def make_server(svc: Service, port: int = 0) -> ChunkedHttpServer:
    """The HTTP server for the GitHub component."""
    return ChunkedHttpServer(Front(svc).handle, port=port, name="github")
