"""Get, list, create, update and delete with Kubernetes semantics.

resourceVersion preconditions, uid/creationTimestamp/generation, managedFields, the status
subresource split, finalizers and deletionTimestamp, dry runs, and what a delete answers.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from typing import Any

from sandbox.k8s.cluster_context import Cluster, Ref, present
from sandbox.k8s.crds import established_status, index_crd
from sandbox.k8s.errors import StatusError, already_exists, bad_request, not_found, stale
from sandbox.k8s.fieldvalidation import validate_fields
from sandbox.k8s.kinds import Kind, storage_key
from sandbox.k8s.managed_fields import record_update
from sandbox.k8s.server_defaults import on_create
from sandbox.k8s.validation import check_name
from sandbox.k8s.watch import Event
from sandbox.k8s.writes import (
    SERVER_FIELDS,
    WITH_GENERATION,
    Result,
    WriteOptions,
    admit,
    decode,
    merge_for_update,
    remove,
    require_namespace,
    run_admission,
    store_update,
)

Obj = dict[str, Any]
_RETURNS_DELETED = frozenset({"Pod", "Service", "Namespace"})


def get(cluster: Cluster, ref: Ref) -> Obj:
    """The object, or 404."""
    obj = cluster.objects.get(storage_key(ref.kind), ref.namespace, ref.name)
    if obj is None:
        raise not_found(ref.kind, ref.name)
    return present(ref.kind, obj)


def list_objects(cluster: Cluster, kind: Kind, namespace: str | None) -> tuple[list[Obj], str]:
    """Objects of a kind (one namespace, or all) and the resourceVersion of the list."""
    objects = cluster.objects
    with objects.store.transaction():
        items = objects.select(storage_key(kind), namespace)
        rv = objects.current_rv()
    return [present(kind, item) for item in items], str(rv)


def create(
    cluster: Cluster, ref: Ref, body: Any, opts: WriteOptions, managed: list[Obj] | None = None
) -> Result:
    """Create an object (409 AlreadyExists when its name is taken); `managed` from an apply."""
    kind, namespace = ref.kind, ref.namespace
    obj = decode(kind, body, namespace)
    warnings = validate_fields(obj, cluster.schema(kind), kind, opts.field_validation)
    metadata = obj["metadata"]
    if not metadata.get("name") and metadata.get("generateName"):
        metadata["name"] = metadata["generateName"] + secrets.token_hex(3)[:5]
    check_name(kind, obj)
    name = metadata["name"]
    if metadata.get("resourceVersion"):
        raise bad_request("resourceVersion should not be set on objects to be created")
    require_namespace(cluster, kind, namespace, name)
    if kind.status and kind.kind != "Namespace":
        obj.pop("status", None)
    for key in (*SERVER_FIELDS, "managedFields"):
        metadata.pop(key, None)
    metadata["uid"] = str(uuid.uuid4())
    metadata["creationTimestamp"] = cluster.now()
    if kind.kind in WITH_GENERATION or kind.custom:
        metadata["generation"] = 1
    metadata["managedFields"] = (
        managed
        if managed is not None
        else record_update(
            None,
            obj,
            manager=opts.manager,
            api_version=kind.api_version,
            now=cluster.now(),
            schema=cluster.schema(kind),
            has_status=kind.status,
        )
    )
    if not metadata["managedFields"]:
        del metadata["managedFields"]
    on_create(cluster, kind, obj)
    warnings += admit(cluster, kind, obj, None, opts)
    if kind.kind == "CustomResourceDefinition":
        obj["status"] = established_status(obj, cluster.now())
    objects = cluster.objects
    with objects.store.transaction():
        if objects.get(storage_key(kind), namespace, name) is not None:
            raise already_exists(kind, name)
        if opts.dry_run:
            return Result(present(kind, obj), warnings, created=True)
        event = objects.put(storage_key(kind), obj, None)
        if kind.kind == "CustomResourceDefinition":
            index_crd(cluster.backend, cluster.key, obj, name)
    cluster.finish([event])
    return Result(present(kind, event.obj), warnings, created=True)


def update(cluster: Cluster, ref: Ref, body: Any, opts: WriteOptions) -> Result:
    """Replace an object (PUT); a stale metadata.resourceVersion is a 409 Conflict."""
    kind, namespace, name = ref.kind, ref.namespace, ref.name
    obj = decode(kind, body, namespace)
    if obj["metadata"].setdefault("name", name) != name:
        raise bad_request(
            f"the name of the object ({obj['metadata']['name']}) does not match the name on "
            f"the URL ({name})"
        )
    warnings = validate_fields(obj, cluster.schema(kind), kind, opts.field_validation)
    objects = cluster.objects
    with objects.store.transaction():
        old = objects.get(storage_key(kind), namespace, name)
        if old is None:
            raise not_found(kind, name)
        result, events = replace_stored(cluster, kind, old, obj, opts, warnings=warnings)
    cluster.finish(events)
    return result


def replace_stored(
    cluster: Cluster,
    kind: Kind,
    old: Obj,
    obj: Obj,
    opts: WriteOptions,
    *,
    warnings: list[str],
) -> tuple[Result, list[Event]]:
    """Inside the caller's transaction: `obj` replaces the stored `old` (a stale
    metadata.resourceVersion is a 409), with its managed fields recorded for `opts`' manager
    and subresource. The caller finishes the events once the transaction is over."""
    wanted = obj["metadata"].get("resourceVersion")
    if wanted and wanted != old["metadata"].get("resourceVersion"):
        raise stale(kind, old["metadata"]["name"])
    new = merge_for_update(kind, old, obj, opts.subresource)
    new["metadata"]["managedFields"] = record_update(
        old,
        new,
        manager=opts.manager,
        api_version=kind.api_version,
        now=cluster.now(),
        schema=cluster.schema(kind),
        subresource=opts.subresource,
        has_status=kind.status,
    )
    return store_update(cluster, kind, old, new, opts=opts, warnings=warnings)


def _success(kind: Kind, obj: Obj) -> Obj:
    details = {"name": obj["metadata"]["name"], "kind": kind.plural, "uid": obj["metadata"]["uid"]}
    if kind.group:
        details["group"] = kind.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def _check_preconditions(kind: Kind, obj: Obj, preconditions: Obj) -> None:
    name, metadata = obj["metadata"]["name"], obj["metadata"]
    uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
    if uid and uid != metadata.get("uid"):
        why = (
            f"Precondition failed: UID in precondition: {uid}, UID in object meta: "
            f"{metadata.get('uid')}"
        )
        raise StatusError(
            409, "Conflict", f'Operation cannot be fulfilled on {kind.resource} "{name}": {why}'
        )
    if rv and rv != metadata.get("resourceVersion"):
        raise stale(kind, name)


def delete(
    cluster: Cluster, ref: Ref, opts: WriteOptions, preconditions: Obj | None = None
) -> Result:
    """Delete an object: at once, or (finalizers, namespaces) mark it with deletionTimestamp."""
    kind, namespace, name = ref.kind, ref.namespace, ref.name
    objects = cluster.objects
    with objects.store.transaction():
        old = objects.get(storage_key(kind), namespace, name)
        if old is None:
            raise not_found(kind, name)
        _check_preconditions(kind, old, preconditions or {})
        run_admission(cluster, "DELETE", old, old, opts)
        if opts.dry_run:
            return Result(present(kind, old))
        events: list[Event] = []
        if kind.kind == "Namespace" or old["metadata"].get("finalizers"):
            if old["metadata"].get("deletionTimestamp"):
                return Result(present(kind, old))
            new = copy.deepcopy(old)
            new["metadata"]["deletionTimestamp"] = cluster.now()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if "generation" in new["metadata"]:
                new["metadata"]["generation"] += 1
            if kind.kind == "Namespace":
                new.setdefault("status", {})["phase"] = "Terminating"
            events = [objects.put(storage_key(kind), new, old)]
            answer = present(kind, events[0].obj)
        else:
            events = remove(cluster, kind, old)
            last = events[0].obj
            answer = present(kind, last) if kind.kind in _RETURNS_DELETED else _success(kind, last)
    cluster.finish(events)
    return Result(answer)
