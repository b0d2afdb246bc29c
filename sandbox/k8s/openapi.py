"""OpenAPI v3: the index and one document per group-version, as kubectl reads them.

Each document holds the kinds' paths and component schemas: built-ins from the client models
(`builtin_openapi`), custom kinds from their CRD's structural schema with `metadata` referring
to ObjectMeta, as kube-apiserver publishes them; `kubectl explain` walks these.

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

from sandbox.k8s.builtin_openapi import builtin_schemas, object_meta_schemas, schema_name
from sandbox.k8s.discovery import KUBERNETES_VERSION
from sandbox.k8s.kinds import Kind, KindIndex
from sandbox.k8s.scale import SCALE_KIND, has_scale

Obj = dict[str, Any]
SchemaOf = Callable[[Kind], "Obj | None"]
SaltOf = Callable[[str, str], str]
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


def _operation(
    kind: Kind,
    action: str,
    verb: str,
    query: list[Obj],
    body: tuple[str, ...],
    *,
    subresource: str = "",
) -> Obj:
    scope = "Namespaced" if kind.namespaced else ""
    group = (kind.group.split(".")[0] or "core").capitalize()
    answers = SCALE_KIND if subresource == "scale" else kind
    operation: Obj = {
        "operationId": f"{verb}{group}{kind.version.capitalize()}{scope}{kind.kind}"
        + subresource.capitalize(),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": answers.group,
            "version": answers.version,
            "kind": answers.kind,
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
    for sub, served in (("status", kind.status), ("scale", has_scale(kind))):
        if not served:
            continue
        paths[f"{collection}/{{name}}/{sub}"] = {
            "parameters": item,
            "get": _operation(kind, "get", "read", [], (), subresource=sub),
            "put": _operation(kind, "put", "replace", writes, json_body, subresource=sub),
            "patch": _operation(kind, "patch", "patch", patches, _PATCH_TYPES, subresource=sub),
        }
    return paths


def _schema_name(kind: Kind) -> str:
    """`io.ray.v1.RayCluster`: the group's labels reversed, as kube-apiserver names them."""
    return ".".join([*reversed(kind.group.split(".")), kind.version, kind.kind])


def _custom_schema(kind: Kind, props: Obj) -> Obj:
    """A CRD's schema as published: apiVersion, kind and metadata (ObjectMeta) described."""
    shown = dict(props)
    properties = dict(shown.get("properties") or {})
    properties.setdefault("apiVersion", {"type": "string", "description": _API_VERSION_TEXT})
    properties.setdefault("kind", {"type": "string", "description": _KIND_TEXT})
    meta = schema_name("V1ObjectMeta", "")
    properties["metadata"] = {
        "allOf": [{"$ref": f"#/components/schemas/{meta}"}],
        "description": _METADATA_TEXT,
    }
    shown["properties"] = properties
    gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    shown["x-kubernetes-group-version-kind"] = [gvk]
    return shown


_API_VERSION_TEXT = (
    "APIVersion defines the versioned schema of this representation of an object. Servers "
    "should convert recognized schemas to the latest internal value, and may reject "
    "unrecognized values."
)
_KIND_TEXT = (
    "Kind is a string value representing the REST resource this object represents. Servers "
    "may infer this from the endpoint the client submits requests to. Cannot be updated. In "
    "CamelCase."
)
_METADATA_TEXT = "Standard object's metadata."


def group_version_document(
    kinds: KindIndex, group: str, version: str, schema_of: SchemaOf | None = None
) -> Obj | None:
    """The OpenAPI v3 document of one group-version, or None when it is not served; with
    schema_of (a custom kind's CRD schema), the component schemas too."""
    served = kinds.in_group_version(group, version)
    if not served:
        return None
    paths: dict[str, Obj] = {}
    schemas: dict[str, Obj] = {}
    for kind in served:
        paths.update(_paths(kind))
    if schema_of is not None:
        schemas.update(builtin_schemas(served, group))
        for kind in served:
            props = schema_of(kind) if kind.custom else None
            if props is not None:
                schemas.update(object_meta_schemas())
                schemas[_schema_name(kind)] = _custom_schema(kind, props)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _digest(document: Obj) -> str:
    text = json.dumps(document, sort_keys=True).encode()
    return hashlib.sha512(text).hexdigest()[:64].upper()


def index(kinds: KindIndex, prefix: str, salt_of: SaltOf | None = None) -> Obj:
    """GET /openapi/v3: a server-relative URL per group-version, with a hash of its document
    (its paths, and `salt_of(group, version)`: what else changes it, such as its CRDs)."""
    paths: dict[str, Obj] = {}
    for group, versions in kinds.group_versions().items():
        for version in versions:
            document = group_version_document(kinds, group, version) or {}
            salt = salt_of(group, version) if salt_of is not None else ""
            key = f"apis/{group}/{version}" if group else f"api/{version}"
            url = f"{prefix}/openapi/v3/{key}?hash={_digest({**document, 'salt': salt})}"
            paths[key] = {"serverRelativeURL": url}
    return {"paths": paths}
