"""Compute Engine operations: global, regional and zonal `get`, `wait`, `list`, `delete`."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute.common import API, guard, link, missing, render_operation
from sandbox.listing import page

# gcloud sends returnPartialSuccess on lists; the discovery document shipped in
# google-api-python-client does not declare it (the live API accepts it).
HANDLERS = Handlers("compute.v1", extra_query={"returnPartialSuccess": {"type": "boolean"}})
# Compute's wait returns after at most about two minutes, done or not.
WAIT_SECONDS = 120.0


def _scope(call: Call) -> str:
    if "region" in call.params:
        return f"regions/{call.params['region']}"
    if "zone" in call.params:
        return f"zones/{call.params['zone']}"
    return "global"


def _path(call: Call) -> str:
    project = guard(call)
    return f"projects/{project['projectId']}/{_scope(call)}/operations/{call.params['operation']}"


def _get(call: Call) -> dict[str, Any]:
    path = _path(call)
    record = call.rt.operations.get(API, path)
    if record is None or record["info"].get("deleted"):
        raise missing(path)
    return render_operation(record)


def _wait(call: Call) -> dict[str, Any]:
    path = _path(call)
    record = call.rt.operations.wait(API, path, WAIT_SECONDS)
    if record is None or record["info"].get("deleted"):
        raise missing(path)
    return render_operation(record)


def _list(call: Call) -> dict[str, Any]:
    project = guard(call)
    prefix = f"projects/{project['projectId']}/{_scope(call)}/operations/"
    records = [r for r in call.rt.operations.list(API, prefix) if not r["info"].get("deleted")]
    items, token = page(call.query, [render_operation(r) for r in records], size_param="maxResults")
    body: dict[str, Any] = {
        "kind": "compute#operationList",
        "id": prefix.rstrip("/"),
        "selfLink": link(prefix.rstrip("/")),
    }
    if items:
        body["items"] = items
    if token:
        body["nextPageToken"] = token
    return body


def _delete(call: Call) -> dict[str, Any]:
    # Deleting the record does not cancel the work: hide it, let it complete.
    path = _path(call)
    record = call.rt.operations.get(API, path)
    if record is None or record["info"].get("deleted"):
        raise missing(path)
    call.rt.operations.update_info(API, path, deleted=True)
    return {}


for _kind in ("globalOperations", "regionOperations", "zoneOperations"):
    HANDLERS(f"compute.{_kind}.get")(_get)
    HANDLERS(f"compute.{_kind}.wait")(_wait)
    HANDLERS(f"compute.{_kind}.list")(_list)
    HANDLERS(f"compute.{_kind}.delete")(_delete)
