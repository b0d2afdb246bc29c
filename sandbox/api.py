"""How an emulated Google API is declared: handlers keyed by discovery method id.

    HANDLERS = Handlers("cloudresourcemanager.v3")

    @HANDLERS("cloudresourcemanager.projects.get")
    def get_project(call: Call) -> dict[str, Any]:
        return ...  # the response body; raise ApiError for an error

A `GoogleApi` groups the handler sets served on one base URL (one port), e.g. Resource Manager
v3 and v1. Methods of the documents without a handler answer 501 UNIMPLEMENTED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.discovery import Method
from sandbox.enumnumbers import EnumNumbers
from sandbox.errors import invalid_argument
from sandbox.runtime import Runtime


@dataclass(frozen=True)
class Call:
    """One request, routed and checked, as a handler receives it."""

    rt: Runtime
    api: str  # the GoogleApi name, e.g. "compute"
    method: Method
    params: dict[str, str]  # path parameters by discovery name
    query: dict[str, Any]  # declared query parameters, typed
    body: dict[str, Any]  # checked and normalized request body ({} when none)
    base_url: str  # http://127.0.0.1:PORT as the client addressed us

    def arg(self, name: str, default: Any = None) -> Any:
        """A query parameter, or default."""
        return self.query.get(name, default)

    def require(self, value: Any, field_path: str) -> Any:
        """`value`, or 400 INVALID_ARGUMENT naming the missing field."""
        if value in (None, "", [], {}):
            raise invalid_argument(f"Required field '{field_path}' is missing.", field_path)
        return value

    @property
    def now(self) -> float:
        """Sandbox time."""
        return self.rt.now()


HandlerFn = Callable[[Call], dict[str, Any]]


class Handlers:
    """Handlers for (a subset of) the methods of one discovery document.

    `proto` names the proto package and the Python module registering its descriptors, for
    enum numbers (`("google.container.v1", "google.cloud.container_v1")`). `body_fields` names
    the request field a method's body binds to when it is not the obvious one (for error paths).
    `extra_query` declares query parameters the live API accepts on every method although the
    shipped discovery document lacks them (`{"returnPartialSuccess": {"type": "boolean"}}`).
    """

    def __init__(
        self,
        document: str,
        *,
        proto: tuple[str, str] | None = None,
        body_fields: dict[str, str] | None = None,
        extra_query: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.document = document
        self.extra_query = dict(extra_query or {})
        self.enums = None if proto is None else EnumNumbers(*proto)
        self.body_fields = dict(body_fields or {})
        self.functions: dict[str, HandlerFn] = {}

    def __call__(self, method_id: str) -> Callable[[HandlerFn], HandlerFn]:
        """Decorator registering a handler for a discovery method id."""

        def register(fn: HandlerFn) -> HandlerFn:
            if method_id in self.functions:
                raise ValueError(f"{self.document}: {method_id} has two handlers")
            self.functions[method_id] = fn
            return fn

        return register


@dataclass(frozen=True)
class GoogleApi:
    """One emulated Google API host: its name (the endpoints.json key, and the gcloud
    `CLOUDSDK_API_ENDPOINT_OVERRIDES_<NAME>` suffix) and the handler sets it serves."""

    name: str
    handlers: tuple[Handlers, ...]
    legacy_errors: bool = False  # Compute-style `errors[]` in error bodies

    @property
    def documents(self) -> tuple[str, ...]:
        """Discovery documents routed on this host."""
        return tuple(dict.fromkeys(h.document for h in self.handlers))
