"""The `/scale` subresource: an `autoscaling/v1` Scale view of a workload's replicas.

What `kubectl scale` reads and patches: `spec.replicas` is the workload's, `status.replicas` and
`status.selector` (the label selector as a string) its status. A write changes only the
workload's `spec.replicas`, recorded in managedFields under the `scale` subresource.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.errors import StatusError, bad_request, invalid, not_found
from sandbox.k8s.kinds import Kind, storage_key
from sandbox.k8s.patch_formats import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_PATCH,
    json_patch,
    merge_patch,
)
from sandbox.k8s.verbs import replace_stored
from sandbox.k8s.writes import Result, WriteOptions

Obj = dict[str, Any]
SCALE_API_VERSION = "autoscaling/v1"
SCALABLE = frozenset({("apps", "Deployment"), ("apps", "ReplicaSet"), ("apps", "StatefulSet")})
SCALE_KIND = Kind("autoscaling", "v1", "Scale", "scale", "scale", True, model="V1Scale")


def has_scale(kind: Kind) -> bool:
    """Whether a kind serves `/scale`."""
    return (kind.group, kind.kind) in SCALABLE


def _requirement(expression: Obj) -> str:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = ",".join(sorted(expression.get("values") or []))
    if operator == "In":
        return f"{key} in ({values})"
    if operator == "NotIn":
        return f"{key} notin ({values})"
    return key if operator == "Exists" else f"!{key}"


def selector_string(selector: Obj | None) -> str:
    """A LabelSelector as its string form (`app=web,tier in (a,b)`), requirements by key."""
    selector = selector or {}
    found = [(k, f"{k}={v}") for k, v in (selector.get("matchLabels") or {}).items()]
    found += [(e.get("key", ""), _requirement(e)) for e in selector.get("matchExpressions") or []]
    return ",".join(text for _, text in sorted(found, key=lambda pair: pair[0]))


def scale_of(obj: Obj) -> Obj:
    """The Scale of a stored workload."""
    metadata = obj["metadata"]
    shown = {
        key: metadata[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if key in metadata
    }
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    replicas = int(spec.get("replicas") or 0)
    scale_status: Obj = {"replicas": int(status.get("replicas") or 0)}
    if spec.get("selector"):
        scale_status["selector"] = selector_string(spec["selector"])
    return {
        "kind": "Scale",
        "apiVersion": SCALE_API_VERSION,
        "metadata": shown,
        "spec": {"replicas": replicas} if replicas else {},
        "status": scale_status,
    }


def _stored(cluster: Cluster, ref: Ref) -> Obj:
    stored = cluster.objects.get(storage_key(ref.kind), ref.namespace, ref.name)
    if stored is None:
        raise not_found(ref.kind, ref.name)
    return stored


def read_scale(cluster: Cluster, ref: Ref) -> Obj:
    """GET …/scale."""
    return scale_of(_stored(cluster, ref))


def _replicas(ref: Ref, body: Any) -> int:
    if not isinstance(body, dict) or body.get("kind", "Scale") != "Scale":
        raise bad_request("the body of the request was in an unknown format: expected a Scale")
    if body.get("apiVersion", SCALE_API_VERSION) != SCALE_API_VERSION:
        raise bad_request(
            f"the API version in the data ({body['apiVersion']}) does not match the expected "
            f"API version ({SCALE_API_VERSION})"
        )
    name = (body.get("metadata") or {}).get("name", ref.name)
    if name != ref.name:
        raise bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({ref.name})"
        )
    replicas = (body.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        raise bad_request(
            f'Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal '
            f"{type(replicas).__name__} into Go struct field ScaleSpec.spec.replicas of type int32"
        )
    if replicas < 0:
        raise invalid(
            SCALE_KIND,
            ref.name,
            [("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0")],
        )
    return replicas


def write_scale(cluster: Cluster, ref: Ref, body: Any, opts: WriteOptions) -> Result:
    """PUT …/scale: set the workload's spec.replicas (a stale resourceVersion is a 409)."""
    kind = ref.kind
    replicas = _replicas(ref, body)
    scaling = dataclasses.replace(opts, subresource="scale")
    objects = cluster.objects
    with objects.store.transaction():
        stored = _stored(cluster, ref)
        changed = copy.deepcopy(stored)
        changed.setdefault("spec", {})["replicas"] = replicas
        changed["metadata"]["resourceVersion"] = (body.get("metadata") or {}).get("resourceVersion")
        result, events = replace_stored(cluster, kind, stored, changed, scaling, warnings=[])
    cluster.finish(events)
    return Result(scale_of(result.obj), result.warnings)


def patch_scale(
    cluster: Cluster, ref: Ref, content_type: str, raw: bytes, opts: WriteOptions
) -> Result:
    """PATCH …/scale (JSON, merge or strategic merge patch; a Scale has no lists to merge)."""
    patch_type = content_type.split(";", 1)[0].strip().lower()
    if patch_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH):
        raise StatusError(
            415,
            "UnsupportedMediaType",
            f'the body of the request was in an unknown format "{patch_type}" - accepted media '
            "types include: application/json-patch+json, application/merge-patch+json, "
            "application/strategic-merge-patch+json",
        )
    try:
        document = json.loads(raw or b"null")
    except ValueError as exc:
        raise bad_request(f"error decoding patch: {exc}") from None
    current = read_scale(cluster, ref)
    if patch_type == JSON_PATCH:
        patched = json_patch(current, document)
    else:
        patched = merge_patch(current, document)
    asked = document.get("metadata") if isinstance(document, dict) else None
    if isinstance(patched, dict) and not (isinstance(asked, dict) and "resourceVersion" in asked):
        patched.get("metadata", {}).pop("resourceVersion", None)  # no precondition asked for
    return write_scale(cluster, ref, patched, opts)
