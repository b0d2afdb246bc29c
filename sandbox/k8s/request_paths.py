"""Kubernetes request paths: which resource, namespace, name and subresource, and which verb."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_NAMESPACE_SUBRESOURCES = ("status", "finalize")


@dataclass(frozen=True)
class Route:
    """A resource request's target."""

    group: str
    version: str
    plural: str
    namespace: str | None  # None: cluster-scoped, or across all namespaces
    name: str = ""
    subresource: str = ""

    @property
    def auth_namespace(self) -> str:
        """The namespace RBAC sees (a Namespace object is in its own namespace)."""
        if self.plural == "namespaces" and not self.group and self.name:
            return self.name
        return self.namespace or ""


def parse_route(path: str) -> Route | None:
    """The resource a path names, or None for discovery and unknown paths."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest or len(rest) > 5:
        return None
    namespace: str | None = None
    namespace_itself = (not group and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES) or len(
        rest
    ) <= 2
    if rest[0] == "namespaces" and not namespace_itself:
        namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    return Route(
        group,
        version,
        rest[0],
        namespace,
        rest[1] if len(rest) > 1 else "",
        rest[2] if len(rest) > 2 else "",
    )


def is_flag(query: Mapping[str, list[str]], name: str) -> bool:
    """A boolean query parameter (`watch=1`, `watch=true`)."""
    return (query.get(name) or [""])[-1].lower() in ("1", "true")


def verb_of(method: str, route: Route, query: Mapping[str, list[str]]) -> str:
    """The Kubernetes verb of a request."""
    if method == "GET":
        if route.name:
            return "get"
        return "watch" if is_flag(query, "watch") else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if route.name else "deletecollection"
    return method.lower()
