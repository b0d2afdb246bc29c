"""Container v1 operations: starting and rendering GKE Operations, the one-at-a-time rule, and
`projects.locations.operations` get, list and cancel.

GKE answers mutations with a `container_v1.Operation` (status RUNNING → DONE) that callers poll.
Records live in the framework's operation store under `projects/<id>/locations/<l>/operations/
<name>`; the Operation JSON built by `operation_rules.new_operation` is kept in its info.
"""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.clock import rfc3339
from sandbox.errors import RPC_CODES, ApiError, failed_precondition, not_found
from sandbox.gcp.billing import billing_enabled, require_billing
from sandbox.gcp.container.operation_rules import (
    new_operation,
    operation_conflict,
    operation_progress,
)
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.resourcemanager.projects import Project, number_of, usable
from sandbox.gcp.serviceusage.services import require_enabled
from sandbox.operations import COLLECTION, Record
from sandbox.runtime import Runtime

API = "container"
SERVICE = "container.googleapis.com"
HOST = "https://container.googleapis.com"  # rewritten to the client's address in responses
PROTO = ("google.container.v1", "google.cloud.container_v1")
CANCELS = "container.cancels"  # key: operation record name
HANDLERS = Handlers("container.v1", proto=PROTO)
_CANCELLABLE = frozenset({"UPGRADE_MASTER", "UPGRADE_NODES"})
_STATUS_BY_RPC = {code: name for name, code in RPC_CODES.items()}


def api_error(exc: ModelError) -> ApiError:
    """The HTTP error for a refused request."""
    return ApiError(exc.http_status, exc.message, exc.code)


def operation_path(project_id: str, location: str, op_name: str = "") -> str:
    """`projects/<id>/locations/<l>/operations/<name>` (the prefix when `op_name` is empty)."""
    return f"projects/{project_id}/locations/{location}/operations/{op_name}"


def start_operation(
    rt: Runtime,
    *,
    project_id: str,
    location: str,
    operation_type: str,
    target_link: str,
    method: str,
    effect: dict[str, Any],
    failure_effect: dict[str, Any] | None = None,
    latency_key: str = "",
    duration: float | None = None,
    nodes: int = 0,
) -> Record:
    """Record a RUNNING GKE operation for `method` (the discovery method id fault rules
    match); `effect` runs when it is done, after `duration` seconds (default: the latency
    model's for `latency_key`, else for `method`). Effects get the operation's record name
    as `args["op"]`. `nodes` is how many nodes it works through (its progress metrics)."""
    op = new_operation(
        operation_type, project_id, location, target_link, now=rfc3339(rt.now()), host=HOST
    )
    name = operation_path(project_id, location, op["name"])
    effect["args"]["op"] = name
    if failure_effect is not None:
        failure_effect["args"]["op"] = name
    if duration is None:
        duration = rt.latency.operation(latency_key or method)
    return rt.operations.start(
        api=API,
        name=name,
        method=method,
        effect=effect,
        failure_effect=failure_effect,
        duration=duration,
        info={"operation": op, "nodes": nodes},
    )


def cancel_requested(rt: Runtime, op_record_name: str) -> bool:
    """True when operations.cancel was called for this operation."""
    return rt.store.get(CANCELS, op_record_name) is not None


def render(rt: Runtime, record: Record) -> dict[str, Any]:
    """A stored record as a container_v1.Operation."""
    op = dict(record["info"]["operation"])
    cancelled = cancel_requested(rt, record["name"])
    started, due = float(record["startedAt"]), float(record["doneAt"])
    fraction = 1.0 if record["done"] else (rt.now() - started) / max(due - started, 1e-9)
    progress = operation_progress(
        str(op.get("operationType", "")), fraction, int(record["info"].get("nodes", 0))
    )
    if progress is not None:
        op["progress"] = progress
    if not record["done"]:
        op["status"] = "ABORTING" if cancelled else "RUNNING"
        return op
    op.update(status="DONE", endTime=rfc3339(float(record.get("endedAt") or record["doneAt"])))
    error = record["error"]
    if error is None and cancelled:
        error = {"code": RPC_CODES["CANCELLED"], "message": "Operation was cancelled."}
    if error is not None:
        op["error"] = error
        op["statusMessage"] = error.get("message", "")
    return op


def planned_failure(rt: Runtime, op_record_name: str) -> tuple[str, str]:
    """(google.rpc status name, message) an operation ending in an injected failure carries."""
    # Reads the framework's stored record (key `<api>:<name>`): `Operations.get` would settle
    # due work again from inside the effect that is completing this very operation.
    record = rt.store.get(COLLECTION, f"{API}:{op_record_name}")
    planned = (record or {}).get("plannedFailure") or {}
    status = _STATUS_BY_RPC.get(int(planned.get("code", 2)), "UNKNOWN")
    return status, str(planned.get("message") or "Operation failed.")


def running(rt: Runtime, project_id: str, location: str) -> list[dict[str, Any]]:
    """The unfinished operations of a location, rendered."""
    records = rt.operations.list(API, operation_path(project_id, location))
    return [render(rt, record) for record in records if not record["done"]]


def require_idle(
    rt: Runtime, project_id: str, location: str, cluster: str, pool: str | None
) -> None:
    """400 FAILED_PRECONDITION (or 429) while another operation blocks this one."""
    conflict = operation_conflict(running(rt, project_id, location), cluster, pool)
    if conflict is not None:
        raise api_error(conflict)


def require_paid(rt: Runtime, project: Project) -> None:
    """Creating what costs money needs a billing account (400 FAILED_PRECONDITION), and one
    whose link has taken effect (403 BILLING_DISABLED)."""
    number = number_of(project)
    if not billing_enabled(rt, project):
        raise failed_precondition(
            f"Billing account for project '{number}' is not found. Billing must be enabled for "
            "activation of service(s) 'container.googleapis.com,compute.googleapis.com' to "
            "proceed.",
            reason="BILLING_DISABLED",
            domain="container.googleapis.com",
            metadata={"project": number},
        )
    require_billing(rt, project)


def location_of(call: Call, path: str) -> tuple[str, str]:
    """(project ID, location) of `projects/P/locations/L…`, after the project and API checks."""
    parts = path.split("/")
    project = usable(call.rt, parts[1])
    require_enabled(call.rt, project, SERVICE)
    return str(project["projectId"]), parts[3]


def _record(call: Call) -> Record:
    name = call.params["name"]
    project_id, location = location_of(call, name)
    op_name = name.split("/")[-1]
    record = call.rt.operations.get(API, operation_path(project_id, location, op_name))
    if record is None:
        raise not_found(f"Not found: {name}.", with_errors_list=True)
    return record


@HANDLERS("container.projects.locations.operations.get")
def get_operation(call: Call) -> dict[str, Any]:
    return render(call.rt, _record(call))


@HANDLERS("container.projects.locations.operations.list")
def list_operations(call: Call) -> dict[str, Any]:
    project_id, location = location_of(call, call.params["parent"])
    prefix = f"projects/{project_id}/locations/"
    records = call.rt.operations.list(API, prefix)
    found = [
        render(call.rt, record)
        for record in records
        if location == "-" or record["name"].split("/")[3] == location
    ]
    found.sort(key=lambda op: op.get("startTime", ""))
    return {"operations": found} if found else {}


@HANDLERS("container.projects.locations.operations.cancel")
def cancel_operation(call: Call) -> dict[str, Any]:
    rt = call.rt
    with rt.store.transaction():
        record = _record(call)
        op = render(rt, record)
        if record["done"]:
            raise failed_precondition(f"Operation {op['name']} is already done.")
        if op["operationType"] not in _CANCELLABLE:
            raise failed_precondition(
                f"Operation {op['name']} of type {op['operationType']} cannot be cancelled."
            )
        rt.store.put(CANCELS, record["name"], {"at": rt.now()})
    return {}
