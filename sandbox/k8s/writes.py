"""The write path every verb shares: decoding bodies, namespace checks, admission, storing.

An update is stored through `store_update` (generation, no-op detection, finalizers), inside
the caller's transaction; `remove` deletes at once (a CRD takes its custom resources along).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.k8s import rbac_escalation
from sandbox.k8s.cluster_context import Cluster, present
from sandbox.k8s.crds import established_status, index_crd
from sandbox.k8s.crvalues import check_custom_resource
from sandbox.k8s.errors import StatusError, bad_request, forbidden, not_found
from sandbox.k8s.hooks import Denied
from sandbox.k8s.identity import ADMIN, UserInfo
from sandbox.k8s.kinds import Kind, builtin, storage_key
from sandbox.k8s.validation import prepare
from sandbox.k8s.watch import Event

Obj = dict[str, Any]
NAMESPACE_KIND = builtin("Namespace")
WITH_GENERATION = frozenset(
    {"Deployment", "ReplicaSet", "Job", "NetworkPolicy", "CustomResourceDefinition"}
)
SERVER_FIELDS = (
    "uid",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


@dataclass(frozen=True)
class WriteOptions:
    """How a write is asked for."""

    user: UserInfo = ADMIN
    manager: str = ""
    dry_run: bool = False
    field_validation: str = "Warn"
    force: bool = False
    subresource: str = ""
    may_create: Callable[[], None] | None = None  # raises when an apply may not create


@dataclass
class Result:
    """A write's answer: the object (or a Status), warnings, and 201 vs 200."""

    obj: Obj
    warnings: list[str] = field(default_factory=list)
    created: bool = False


def decode(kind: Kind, body: Any, namespace: str) -> Obj:
    """A request body as an object of kind in namespace (400 when it cannot be)."""
    if not isinstance(body, dict):
        raise bad_request(
            f"the body of the request was in an unknown format: expected a {kind.kind} object"
        )
    obj = copy.deepcopy(body)
    api_version = obj.setdefault("apiVersion", kind.api_version)
    if api_version != kind.api_version:
        raise bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({kind.api_version})"
        )
    if obj.setdefault("kind", kind.kind) != kind.kind:
        raise bad_request(
            f"the kind in the data ({obj['kind']}) does not match the expected kind ({kind.kind})"
        )
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = obj["metadata"] = {}
    if not isinstance(metadata, dict):
        raise bad_request("metadata must be an object")
    if kind.namespaced:
        if metadata.get("namespace", namespace) != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    return obj


def require_namespace(cluster: Cluster, kind: Kind, namespace: str, name: str) -> None:
    """404 when the namespace is missing, 403 when it is being terminated."""
    if not kind.namespaced:
        return
    found = cluster.objects.get(storage_key(NAMESPACE_KIND), "", namespace)
    if found is None:
        raise not_found(NAMESPACE_KIND, namespace)
    if found["metadata"].get("deletionTimestamp"):
        raise forbidden(
            f'{kind.resource} "{name}" is forbidden: unable to create new content in namespace '
            f"{namespace} because it is being terminated",
            kind,
            name,
            causes=[
                {
                    "reason": "NamespaceTerminating",
                    "message": f"namespace {namespace} is being terminated",
                    "field": "metadata.namespace",
                }
            ],
        )


def admit(cluster: Cluster, kind: Kind, obj: Obj, old: Obj | None, opts: WriteOptions) -> list[str]:
    """Validate and default obj, then run admission callbacks (CREATE when old is None)."""
    prepare(kind, obj, old)
    if kind.custom:
        check_custom_resource(kind, obj, cluster.schema(kind), old)
    if kind.group == rbac_escalation.GROUP:
        rbac_escalation.check(cluster.objects, kind.kind, obj, old, opts.user)
    operation = "CREATE" if old is None else "UPDATE"
    return run_admission(cluster, operation, obj, old, opts)


def run_admission(
    cluster: Cluster, operation: str, obj: Obj, old: Obj | None, opts: WriteOptions
) -> list[str]:
    """The cluster's admission callbacks; a refusal becomes the API server's Status error."""
    try:
        return cluster.backend.hooks.admit(cluster.key, operation, obj, old, opts.user)
    except Denied as exc:
        by_code = "Forbidden" if exc.code == 403 else "Invalid" if exc.code == 422 else "BadRequest"
        raise StatusError(exc.code, exc.reason or by_code, exc.message) from None


def merge_for_update(kind: Kind, old: Obj, new: Obj, subresource: str) -> Obj:
    """What an update stores: the status split, and metadata the server owns kept from old."""
    if subresource == "status":
        merged = copy.deepcopy(old)
        if "status" in new:
            merged["status"] = new["status"]
        else:
            merged.pop("status", None)
        return merged
    merged = new
    if kind.status:
        if "status" in old:
            merged["status"] = copy.deepcopy(old["status"])
        else:
            merged.pop("status", None)
    metadata = merged["metadata"]
    for key in SERVER_FIELDS:
        if key in old["metadata"]:
            metadata[key] = old["metadata"][key]
        else:
            metadata.pop(key, None)
    return merged


def _content(obj: Obj) -> Obj:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def store_update(
    cluster: Cluster, kind: Kind, old: Obj, new: Obj, *, opts: WriteOptions, warnings: list[str]
) -> tuple[Result, list[Event]]:
    """Admit and store a new version of old, inside the caller's transaction.

    A no-op answers old unchanged; an object being deleted goes once its last finalizer does.
    """
    warnings = warnings + admit(cluster, kind, new, old, opts)
    if "generation" in old["metadata"] and _content(old) != _content(new):
        new["metadata"]["generation"] = int(old["metadata"]["generation"]) + 1
    new["metadata"]["resourceVersion"] = old["metadata"].get("resourceVersion")
    if kind.kind == "CustomResourceDefinition" and _content(old) != _content(new):
        new["status"] = established_status(new, cluster.now())
    if new == old:
        return Result(present(kind, old), warnings), []
    if opts.dry_run:
        return Result(present(kind, new), warnings), []
    if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
        events = remove(cluster, kind, new)
    else:
        events = [cluster.objects.put(storage_key(kind), new, old)]
        if kind.kind == "CustomResourceDefinition":
            index_crd(cluster.backend, cluster.key, new, new["metadata"]["name"])
    return Result(present(kind, events[0].obj), warnings), events


def remove(cluster: Cluster, kind: Kind, obj: Obj) -> list[Event]:
    """Delete a stored object now; a CRD takes its custom resources with it."""
    objects = cluster.objects
    events = [objects.remove(storage_key(kind), obj)]
    if kind.kind == "CustomResourceDefinition":
        name = obj["metadata"]["name"]
        plural, _, group = name.partition(".")
        for item in objects.select(f"{group}/{plural}"):
            events.append(objects.remove(f"{group}/{plural}", item))
        index_crd(cluster.backend, cluster.key, None, name)
    return events
