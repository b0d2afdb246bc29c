"""What of a recording is replayed: the APIs mlplat uses, mapped onto the versions the sandbox
serves, routed by Google's discovery documents, and the answer fields each document declares.

Config Connector records Container and GKE Hub through their beta versions; the sandbox (like
mlplat) serves v1. A recorded request is replayed on the v1 path with the fields v1 declares,
and only the answer fields v1 declares are expected back.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from sandbox.discovery import Discovery, Method, RouteTable, load

# Real host → (sandbox API, recorded version → served version, documents served on the host).
HOSTS: dict[str, tuple[str, dict[str, str], tuple[str, ...]]] = {
    "container.googleapis.com": ("container", {"v1beta1": "v1", "v1": "v1"}, ("container.v1",)),
    "gkehub.googleapis.com": (
        "gkehub",
        {"v1beta1": "v1", "v1beta": "v1beta", "v1": "v1"},
        ("gkehub.v1", "gkehub.v1beta"),
    ),
    "cloudresourcemanager.googleapis.com": (
        "cloudresourcemanager",
        {"v1": "v1", "v3": "v3"},
        ("cloudresourcemanager.v3", "cloudresourcemanager.v1"),
    ),
    "cloudbilling.googleapis.com": ("cloudbilling", {"v1": "v1"}, ("cloudbilling.v1",)),
    "serviceusage.googleapis.com": (
        "serviceusage",
        {"v1": "v1", "v1beta1": "v1"},
        ("serviceusage.v1",),
    ),
    "compute.googleapis.com": ("compute", {"v1": "v1", "beta": "v1"}, ("compute.v1",)),
    "iam.googleapis.com": ("iam", {"v1": "v1"}, ("iam.v1",)),
}

# Discovery method id (prefix) → the row of the report it counts in.
_GROUPS: tuple[tuple[str, str], ...] = (
    (
        r"^(cloudresourcemanager\.projects|iam\.projects\.serviceAccounts)\."
        r"(getIamPolicy|setIamPolicy|testIamPermissions)$",
        "iam policies",
    ),
    (r"\.(getIamPolicy|setIamPolicy|testIamPermissions)$", ""),
    (r"^container\..*\.nodePools\.", "container nodePools"),
    (r"^container\..*\.operations\.", "container operations"),
    (r"^container\..*\.clusters\.", "container clusters"),
    (r"^gkehub\..*\.memberships\.", "gkehub memberships"),
    (r"^gkehub\..*\.features\.", "gkehub features"),
    (r"^gkehub\..*\.operations\.", "gkehub operations"),
    (r"^cloudresourcemanager\.", "resourcemanager"),
    (r"^cloudbilling\.", "cloudbilling"),
    (r"^serviceusage\.", "serviceusage"),
    (r"^compute\.networks\.", "compute networks"),
    (r"^compute\.subnetworks\.", "compute subnetworks"),
    (r"^compute\.routers\.", "compute routers"),
    (r"^compute\.reservations\.", "compute reservations"),
    (r"^compute\.(global|region|zone)Operations\.", "compute operations"),
    (r"^iam\.projects\.serviceAccounts\.", "iam serviceAccounts"),
)

# Hub's beta recorded operations under their resource; v1 names them by location.
_NESTED_OPERATION = re.compile(r"^(/v1/projects/[^/]+/locations/[^/]+)/.+(/operations/[^/]+)$")
_DROPPED_QUERY = frozenset({"alt", "prettyPrint", "$alt"})


@dataclass(frozen=True)
class Routed:
    """A recorded request placed on the sandbox: API, served path, query, discovery method."""

    api: str
    path: str
    query: dict[str, str]
    method: Method
    group: str


def group_of(method_id: str) -> str | None:
    """The report row of a discovery method; None or "" when mlplat does not use it."""
    return next((name for pattern, name in _GROUPS if re.search(pattern, method_id)), None)


def route(http_method: str, url: str) -> Routed | None:
    """Where a recorded request goes on the sandbox, or None when it is out of scope."""
    parts = urlsplit(url)
    host = HOSTS.get(parts.netloc)
    if host is None:
        return None
    api, versions, documents = host
    path = parts.path
    prefix = "/compute/" if api == "compute" else "/"
    recorded = path.removeprefix(prefix).split("/", 1)[0]
    served = versions.get(recorded)
    if served is None:
        return None
    path = prefix + served + path.removeprefix(prefix + recorded)
    if api == "gkehub":
        path = _NESTED_OPERATION.sub(r"\1\2", path)
    found = _table(documents).match(http_method, path)
    if found is None:
        return None
    method = found[0]
    group = group_of(method.id)
    if not group:
        return None
    query = {k: v for k, v in parse_qsl(parts.query) if k not in _DROPPED_QUERY}
    return Routed(api, path, query, method, group)


@functools.cache
def _table(documents: tuple[str, ...]) -> RouteTable:
    return RouteTable([m for name in documents for m in load(name).methods.values()])


def field_paths(document: str, schema_ref: str | None, value: Any) -> tuple[set[str], set[str]]:
    """(paths the document declares, paths it does not) of a JSON answer.

    Paths are dotted; list items merge as `[]`, map keys collapse to `*`. The `response` and
    `metadata` of a long-running operation are walked with the schema their `@type` names.
    """
    declared: set[str] = set()
    undeclared: set[str] = set()
    doc = load(document)
    schema = doc.schemas.get(schema_ref or "", {})
    _walk(doc, schema, value, "", declared, undeclared)
    return declared, undeclared


def error_paths(value: Any) -> set[str]:
    """Paths of an error answer (`error.code`, `error.errors[].reason`, …), details by key."""
    out: set[str] = set()
    _walk_free(value, "", out)
    return out


def _walk(
    doc: Discovery,
    schema: dict[str, Any],
    value: Any,
    path: str,
    declared: set[str],
    undeclared: set[str],
) -> None:
    if "$ref" in schema:
        schema = doc.schemas.get(schema["$ref"], {})
    if isinstance(value, list):
        for item in value:
            _walk(doc, schema.get("items", {}), item, path + "[]", declared, undeclared)
        return
    if not isinstance(value, dict):
        return
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if properties is None and isinstance(extra, dict):
        typed = doc.schemas.get(str(value.get("@type", "")).rsplit(".", 1)[-1])
        if typed is not None:
            for key, item in value.items():
                sub = f"{path}.{key}".lstrip(".")
                if key == "@type":
                    declared.add(sub)
                    continue
                prop = typed.get("properties", {}).get(key)
                if prop is None:
                    undeclared.add(sub)
                    continue
                declared.add(sub)
                _walk(doc, prop, item, sub, declared, undeclared)
            return
        if extra.get("type") != "any":
            for item in value.values():
                sub = f"{path}.*".lstrip(".")
                declared.add(sub)
                _walk(doc, extra, item, sub, declared, undeclared)
            return
        _walk_free(value, path, declared)
        return
    for key, item in value.items():
        sub = f"{path}.{key}".lstrip(".")
        prop = (properties or {}).get(key)
        if prop is None:
            undeclared.add(sub)
            continue
        declared.add(sub)
        _walk(doc, prop, item, sub, declared, undeclared)


def _walk_free(value: Any, path: str, out: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk_free(item, path + "[]", out)
    elif isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}".lstrip(".")
            out.add(sub)
            _walk_free(item, sub, out)


def strip_body(document: str, schema_ref: str | None, body: Any) -> tuple[Any, list[str]]:
    """The request body with only the fields the document declares; and the dropped paths."""
    dropped: list[str] = []
    doc = load(document)
    kept = _strip(doc, doc.schemas.get(schema_ref or "", {}), body, "", dropped)
    return kept, dropped


def _strip(
    doc: Discovery, schema: dict[str, Any], value: Any, path: str, dropped: list[str]
) -> Any:
    if "$ref" in schema:
        schema = doc.schemas.get(schema["$ref"], {})
    if isinstance(value, list):
        return [_strip(doc, schema.get("items", {}), v, path + "[]", dropped) for v in value]
    if not isinstance(value, dict):
        return value
    properties = schema.get("properties")
    if properties is None:
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra.get("type") != "any":
            return {k: _strip(doc, extra, v, f"{path}.*", dropped) for k, v in value.items()}
        return value
    kept = {}
    for key, item in value.items():
        sub = f"{path}.{key}".lstrip(".")
        if key not in properties:
            dropped.append(sub)
            continue
        kept[key] = _strip(doc, properties[key], item, sub, dropped)
    return kept
