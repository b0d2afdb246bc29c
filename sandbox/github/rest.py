"""The REST machinery: GitHub's error bodies, the request context, routes, pagination."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from sandbox.github.accounts import Account, allows, permission
from sandbox.github.gitrepo import GitRepo
from sandbox.github.repo_settings import get_repo, repo_key
from sandbox.github.service import Service
from sandbox.httpserver import Request

DOCS = "https://docs.github.com/rest"
API_PREFIX = "/api/v3"


class GitHubError(Exception):
    """An error answered as `{"message", "errors"?, "documentation_url", "status"}`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def payload(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return body


def not_found(message: str = "Not Found") -> GitHubError:
    """404 as GitHub answers for anything missing or hidden."""
    return GitHubError(404, message)


def invalid(resource: str, field_name: str, code: str = "invalid", **extra: Any) -> GitHubError:
    """422 Validation Failed with one `errors[]` entry."""
    error = {"resource": resource, "field": field_name, "code": code, **extra}
    return GitHubError(422, "Validation Failed", errors=[error])


@dataclass
class Reply:
    """A handler's answer: status, JSON payload (None: no body), extra headers."""

    payload: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RepoRef:
    """A repository the caller may access."""

    doc: dict[str, Any]
    key: str
    git: GitRepo
    permission: str
    url: str  # API URL
    html: str  # web URL

    @property
    def full_name(self) -> str:
        """owner/name."""
        return f"{self.doc['owner']}/{self.doc['name']}"


@dataclass
class Ctx:
    """One authenticated REST request."""

    svc: Service
    request: Request
    params: dict[str, str]
    user: Account

    @property
    def api(self) -> str:
        """`http://host:port/api/v3`, from the Host the client used."""
        return self.request.base_url + API_PREFIX

    @property
    def web(self) -> str:
        """`http://host:port`, for html_url and clone URLs."""
        return self.request.base_url

    def body(self) -> dict[str, Any]:
        """The JSON object sent; 400 like GitHub when it is not one."""
        try:
            data = json.loads(self.request.body) if self.request.body.strip() else {}
        except ValueError:
            raise GitHubError(400, "Problems parsing JSON") from None
        if not isinstance(data, dict):
            raise GitHubError(400, "Problems parsing JSON")
        return data

    def arg(self, name: str, default: str = "") -> str:
        """A query parameter."""
        values = self.request.query.get(name)
        return values[-1] if values else default

    def repo(self, needed: str = "read") -> RepoRef:
        """The repository in the path, checked against the caller's permission."""
        owner, name = self.params["owner"], self.params["repo"]
        doc = get_repo(self.svc.store, owner, name)
        granted = None if doc is None else permission(self.user, doc)
        if doc is None or granted is None:
            raise not_found()
        if not allows(granted, needed):
            if needed == "admin":
                raise GitHubError(403, "Must have admin rights to Repository.")
            raise not_found()
        if needed != "read" and doc.get("archived"):
            raise GitHubError(403, "Repository was archived so is read-only.")
        full = f"{doc['owner']}/{doc['name']}"
        return RepoRef(
            doc=doc,
            key=repo_key(doc["owner"], doc["name"]),
            git=self.svc.git(doc),
            permission=granted,
            url=f"{self.api}/repos/{full}",
            html=f"{self.web}/{full}",
        )


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    """A REST route: `{name}` matches one segment, `{name+}` the rest of the path."""

    method: str
    template: str
    handler: Handler
    pattern: re.Pattern[str]

    @property
    def method_id(self) -> str:
        """The counter and fault-injection name: `github.GET /repos/{owner}/{repo}`."""
        return f"github.{self.method} {self.template}"


def route(method: str, template: str, handler: Handler) -> Route:
    """Compile a route."""
    regex = re.sub(
        r"\{(\w+)(\+?)\}",
        lambda m: f"(?P<{m.group(1)}>{'.+' if m.group(2) else '[^/]+'})",
        template,
    )
    return Route(method, template, handler, re.compile(f"^{regex}/?$"))


def match(routes: Sequence[Route], method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The first route matching a method and an API path (without the /api/v3 prefix)."""
    for candidate in routes:
        if candidate.method == method:
            found = candidate.pattern.match(path)
            if found is not None:
                return candidate, found.groupdict()
    return None


def page_params(ctx: Ctx) -> tuple[int, int]:
    """(per_page, page) of a list request: 30 and 1 by default, at most 100 per page."""
    try:
        return min(100, max(1, int(ctx.arg("per_page", "30")))), max(1, int(ctx.arg("page", "1")))
    except ValueError:
        return 30, 1


def link_header(ctx: Ctx, page: int, last: int | None, has_next: bool) -> dict[str, str]:
    """GitHub's `Link` header for a page (last None when the total is unknown)."""
    query = {k: v[-1] for k, v in ctx.request.query.items() if k != "page"}

    def link(number: int, rel: str) -> str:
        target = urlencode({**query, "page": str(number)})
        return f'<{ctx.web}{quote(ctx.request.path)}?{target}>; rel="{rel}"'

    links = []
    if page > 1:
        links += [link(page - 1, "prev"), link(1, "first")]
    if has_next:
        links.append(link(page + 1, "next"))
        if last is not None:
            links.append(link(last, "last"))
    return {"Link": ", ".join(links)} if links else {}


def paginate(ctx: Ctx, items: Sequence[Any]) -> Reply:
    """One page of a list (`per_page`, `page`) with GitHub's `Link` header."""
    per_page, page = page_params(ctx)
    last = max(1, -(-len(items) // per_page))
    start = (page - 1) * per_page
    return Reply(
        list(items[start : start + per_page]), headers=link_header(ctx, page, last, page < last)
    )
