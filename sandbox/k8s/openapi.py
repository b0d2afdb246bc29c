"""OpenAPI v3: the index and one document per group-version, enough for kubectl.

kubectl's strict field validation asks whether the server validates fields itself: it looks for
each kind's PATCH operation (`x-kubernetes-group-version-kind`) with a `fieldValidation` query
parameter, then sends `fieldValidation=Strict` and leaves the checking to the server. The
index's `serverRelativeURL`s are used as-is (not joined to the kubeconfig server's path), so they
carry the gateway prefix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sandbox.k8s.discovery import KUBERNETES_VERSION
from sandbox.k8s.kinds import Kind, KindIndex

Obj = dict[str, Any]
SchemaOf = Callable[[Kind], "Obj | None"]
_OBJECT = {"type": "object"}
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)


def _query(name: str, kind: str = "string") -> Obj:
    return {"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": True}}


def _path_param(name: str) -> Obj:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _operation(kind: Kind, action: str, verb: str, query: list[Obj], body: tuple[str, ...]) -> Obj:
    scope = "Namespaced" if kind.namespaced else ""
    group = (kind.group.split(".")[0] or "core").capitalize()
    operation: Obj = {
        "operationId": f"{verb}{group}{kind.version.capitalize()}{scope}{kind.kind}",
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": kind.group,
            "version": kind.version,
            "kind": kind.kind,
        },
        "parameters": query,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": _OBJECT}}},
            "401": {"description": "Unauthorized"},
        },
    }
    if body:
        operation["requestBody"] = {
            "content": {media: {"schema": _OBJECT} for media in body},
            "required": True,
        }
    return operation


def _paths(kind: Kind) -> dict[str, Obj]:
    root = f"/apis/{kind.group}/{kind.version}" if kind.group else "/api/v1"
    collection = (
        f"{root}/namespaces/{{namespace}}/{kind.plural}"
        if kind.namespaced
        else (f"{root}/{kind.plural}")
    )
    scoped = [_path_param("namespace")] if kind.namespaced else []
    writes = [_query("dryRun"), _query("fieldManager"), _query("fieldValidation")]
    json_body = ("application/json",)
    paths: dict[str, Obj] = {
        collection: {
            "parameters": scoped,
            "post": _operation(kind, "post", "create", writes, json_body),
        }
    }
    if "list" in kind.verbs:
        listing = [_query("labelSelector"), _query("fieldSelector"), _query("watch", "boolean")]
        paths[collection]["get"] = _operation(kind, "list", "list", listing, ())
    if "get" not in kind.verbs:
        return paths
    item = [*scoped, _path_param("name")]
    patches = [*writes, _query("force", "boolean")]
    paths[f"{collection}/{{name}}"] = {
        "parameters": item,
        "get": _operation(kind, "get", "read", [], ()),
        "put": _operation(kind, "put", "replace", writes, json_body),
        "patch": _operation(kind, "patch", "patch", patches, _PATCH_TYPES),
        "delete": _operation(kind, "delete", "delete", [_query("dryRun")], json_body),
    }
    if kind.status:
        paths[f"{collection}/{{name}}/status"] = {
            "parameters": item,
            "get": _operation(kind, "get", "read", [], ()),
            "put": _operation(kind, "put", "replace", writes, json_body),
            "patch": _operation(kind, "patch", "patch", patches, _PATCH_TYPES),
        }
    return paths


def _schema_name(kind: Kind) -> str:
    """`io.ray.v1.RayCluster`: the group's labels reversed, as kube-apiserver names them."""
    return ".".join([*reversed(kind.group.split(".")), kind.version, kind.kind])


def group_version_document(
    kinds: KindIndex, group: str, version: str, schema_of: SchemaOf | None = None
) -> Obj | None:
    """The OpenAPI v3 document of one group-version, or None when it is not served; with
    schema_of, custom kinds' schemas (what `kubectl explain` reads) under components."""
    served = kinds.in_group_version(group, version)
    if not served:
        return None
    paths: dict[str, Obj] = {}
    schemas: dict[str, Obj] = {}
    for kind in served:
        paths.update(_paths(kind))
        props = schema_of(kind) if schema_of is not None else None
        if props is not None:
            gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
            schemas[_schema_name(kind)] = {**props, "x-kubernetes-group-version-kind": [gvk]}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _digest(document: Obj) -> str:
    text = json.dumps(document, sort_keys=True).encode()
    return hashlib.sha512(text).hexdigest()[:64].upper()


def index(kinds: KindIndex, prefix: str) -> Obj:
    """GET /openapi/v3: a server-relative URL (with a content hash) per group-version."""
    paths: dict[str, Obj] = {}
    for group, versions in kinds.group_versions().items():
        for version in versions:
            document = group_version_document(kinds, group, version)
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            url = f"{prefix}/openapi/v3/{key}?hash={_digest(document or {})}"
            paths[key] = {"serverRelativeURL": url}
    return {"paths": paths}
