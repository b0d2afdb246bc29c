"""PATCH: JSON, merge and strategic merge patches, and server-side apply (create-on-apply)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from sandbox.k8s.cluster_context import Cluster, Ref, present
from sandbox.k8s.errors import StatusError, bad_request, not_found, stale, unsupported_media_type
from sandbox.k8s.fieldvalidation import validate_fields
from sandbox.k8s.kinds import storage_key
from sandbox.k8s.managed_fields import server_side_apply
from sandbox.k8s.patch_formats import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    json_patch,
    merge_patch,
    strategic_merge,
)
from sandbox.k8s.verbs import create, replace_stored
from sandbox.k8s.writes import Result, WriteOptions, decode, merge_for_update, store_update

Obj = dict[str, Any]


def patch(cluster: Cluster, ref: Ref, content_type: str, body: bytes, opts: WriteOptions) -> Result:
    """Patch an object with a body of the given patch content type."""
    patch_type = content_type.split(";", 1)[0].strip().lower()
    if patch_type == APPLY_PATCH:
        return apply(cluster, ref, parse_configuration(body), opts)
    if patch_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
        raise unsupported_media_type(patch_type)
    if patch_type == STRATEGIC_PATCH and ref.kind.custom:
        raise unsupported_media_type(patch_type)
    try:
        document = json.loads(body or b"null")
    except ValueError as exc:
        raise bad_request(f"error decoding patch: {exc}") from None
    kind, name = ref.kind, ref.name
    schema = cluster.schema(kind)
    objects = cluster.objects
    with objects.store.transaction():
        stored = objects.get(storage_key(kind), ref.namespace, name)
        if stored is None:
            raise not_found(kind, name)
        old = present(kind, stored)
        if patch_type == JSON_PATCH:
            patched = json_patch(old, document)
        elif patch_type == MERGE_PATCH:
            patched = merge_patch(old, document)
        else:
            if not isinstance(document, dict):
                raise bad_request("a strategic merge patch must be a JSON object")
            patched = strategic_merge(old, document, schema)
        if not isinstance(patched, dict):
            raise StatusError(422, "Invalid", "the patched object is not a JSON object")
        obj = decode(kind, patched, ref.namespace)
        if obj["metadata"].get("name") != name:
            raise bad_request("metadata.name: the name of the object may not be changed by a patch")
        warnings = validate_fields(obj, schema, kind, opts.field_validation)
        result, events = replace_stored(cluster, kind, stored, obj, opts, warnings=warnings)
    cluster.finish(events)
    return result


def parse_configuration(body: bytes) -> Any:
    """An apply body: JSON (what clients send, and fast), else YAML."""
    try:
        return json.loads(body)
    except ValueError:
        pass
    try:
        return yaml.load(body or b"", Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise bad_request(f"error decoding YAML: {exc}") from None


def _check_configuration(ref: Ref, config: Any) -> Obj:
    if not isinstance(config, dict):
        raise bad_request("the body of an apply patch must be an object")
    for field in ("apiVersion", "kind"):
        if not config.get(field):
            raise bad_request(f"invalid object type: {field} must be set in an apply configuration")
    name = (config.get("metadata") or {}).get("name")
    if name and name != ref.name:
        raise bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({ref.name})"
        )
    return config


def apply(cluster: Cluster, ref: Ref, configuration: Any, opts: WriteOptions) -> Result:
    """Server-side apply: create when absent, else merge the manager's configuration."""
    if not opts.manager:
        raise StatusError(
            422,
            "Invalid",
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required '
            "for apply patch",
        )
    kind, name = ref.kind, ref.name
    config = decode(kind, _check_configuration(ref, configuration), ref.namespace)
    config["metadata"]["name"] = name
    schema = cluster.schema(kind)
    warnings = validate_fields(config, schema, kind, opts.field_validation, applying=True)
    owner: dict[str, Any] = {
        "manager": opts.manager,
        "api_version": kind.api_version,
        "now": cluster.now(),
        "schema": schema,
        "subresource": opts.subresource,
        "has_status": kind.status,
    }
    objects = cluster.objects
    if objects.get(storage_key(kind), ref.namespace, name) is None:
        if opts.subresource:
            raise not_found(kind, name)
        if opts.may_create is not None:
            opts.may_create()
        created = server_side_apply(None, config, **owner)
        result = create(cluster, ref, config, opts, managed=created["metadata"]["managedFields"])
        result.warnings[:0] = warnings
        return result
    with objects.store.transaction():
        stored = objects.get(storage_key(kind), ref.namespace, name)
        if stored is None:
            raise not_found(kind, name)
        wanted = config["metadata"].get("resourceVersion")
        if wanted and wanted != stored["metadata"].get("resourceVersion"):
            raise stale(kind, name)
        merged = server_side_apply(present(kind, stored), config, force=opts.force, **owner)
        new = merge_for_update(kind, stored, merged, opts.subresource)
        if opts.subresource == "status":
            new["metadata"]["managedFields"] = merged["metadata"]["managedFields"]
        result, events = store_update(cluster, kind, stored, new, opts=opts, warnings=warnings)
    cluster.finish(events)
    return result
