"""GKE Hub (Fleet): what its resource modules share, and `projects.locations.operations`.

Hub serves v1 and v1beta on one host (gcloud's `fleet memberships get-credentials` lists with
v1beta): every handler is registered on both documents. Projects are addressed by ID or number;
names use the number. Mutations are google.longrunning Operations polled at
`v1/projects/<number>/locations/<l>/operations/<op>`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from sandbox import longrunning
from sandbox.api import Call, HandlerFn, Handlers
from sandbox.clock import rfc3339
from sandbox.errors import ApiError, failed_precondition, invalid_argument, not_found
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.resourcemanager.projects import Project, number_of, usable
from sandbox.gcp.serviceusage.services import require_enabled
from sandbox.operations import Record

API = "gkehub"
SERVICE = "gkehub.googleapis.com"
PROTO = ("google.cloud.gkehub.v1", "google.cloud.gkehub_v1")
_TYPE = "type.googleapis.com/google.cloud.gkehub."
EMPTY = "type.googleapis.com/google.protobuf.Empty"

HubHandlers = tuple[Handlers, Handlers]


def hub_handlers() -> HubHandlers:
    """A (v1, v1beta) pair of handler sets for one module."""
    return Handlers("gkehub.v1", proto=PROTO), Handlers("gkehub.v1beta")


def route(pair: HubHandlers, method_id: str) -> Callable[[HandlerFn], HandlerFn]:
    """Decorator registering a handler on both versions."""

    def register(fn: HandlerFn) -> HandlerFn:
        for handlers in pair:
            handlers(method_id)(fn)
        return fn

    return register


OPERATION_HANDLERS = hub_handlers()
HANDLERS, HANDLERS_BETA = OPERATION_HANDLERS


def api_error(exc: ModelError) -> ApiError:
    """The HTTP error for a refused request."""
    return ApiError(exc.http_status, exc.message, exc.code)


def version(call: Call) -> str:
    """`v1` or `v1beta`, as the client called."""
    return call.method.document.split(".", 1)[1]


def resource_type(call: Call, kind: str) -> str:
    """The Any type URL of a Hub message in the called version."""
    return f"{_TYPE}{version(call)}.{kind}"


def guard(call: Call, path: str) -> tuple[Project, str, str]:
    """(project, project number, location) of `projects/P/locations/L…`: the project exists
    and the GKE Hub API is enabled on it."""
    parts = path.split("/")
    project = usable(call.rt, parts[1])
    require_enabled(call.rt, project, SERVICE)
    return project, number_of(project), parts[3]


def missing(name: str) -> ApiError:
    """404 as Hub words it."""
    return not_found(f"Resource '{name}' was not found")


def query_id(call: Call, param: str, field_path: str) -> str:
    """A required `?membershipId=` / `?featureId=`."""
    value = str(call.arg(param, "") or "")
    if not value:
        raise invalid_argument(f"Required query parameter '{param}' is missing.", field_path)
    return value


def start(
    call: Call,
    *,
    number: str,
    location: str,
    verb: str,
    target: str,
    effect: dict[str, Any],
    response: str,
    failure_effect: dict[str, Any] | None = None,
    immediate: bool = False,
) -> dict[str, Any]:
    """Start a Hub LRO on `target` answering `response` (a message name, or EMPTY).

    `immediate`: the work is done by the time Hub answers (its deletes, in Config Connector's
    recordings); the caller returns `finished(call, answer)` once out of its transaction."""
    rt = call.rt
    millis = int(rt.now() * 1000)
    suffix = f"{secrets.token_hex(7)[:13]}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"
    op = f"operation-{millis}-{suffix}"
    api_version = version(call)
    record = rt.operations.start(
        api=API,
        name=f"projects/{number}/locations/{location}/operations/{op}",
        method=call.method.id,
        effect=effect,
        failure_effect=failure_effect,
        duration=0.0 if immediate else None,
        info={
            "responseType": response if response == EMPTY else resource_type(call, response),
            "metadata": {
                "@type": resource_type(call, "OperationMetadata"),
                "createTime": rfc3339(rt.now()),
                "target": target,
                "verb": verb,
                "apiVersion": api_version,
                "cancelRequested": False,
            },
        },
    )
    # Hub's first answer already carries the metadata's endTime (Config Connector's recordings)
    return render(record, answered_at=rfc3339(rt.now()))


def finished(call: Call, answer: dict[str, Any]) -> dict[str, Any]:
    """The operation of `answer` once settled (for an `immediate` start)."""
    record = call.rt.operations.get(API, str(answer["name"]))
    return answer if record is None else render(record)


def render(record: Record, answered_at: str = "") -> dict[str, Any]:
    """A Hub operation as google.longrunning.Operation JSON."""
    extra = (
        {"endTime": rfc3339(float(record.get("endedAt") or record["doneAt"]))}
        if record["done"]
        else {"endTime": answered_at}
        if answered_at
        else {}
    )
    return longrunning.render(record, extra)


def _record(call: Call) -> Record:
    name = call.params["name"]
    _, number, location = guard(call, name)
    record = call.rt.operations.get(
        API, f"projects/{number}/locations/{location}/operations/{name.split('/')[-1]}"
    )
    if record is None or record["info"].get("deleted"):
        raise longrunning.missing(name)
    return record


@route(OPERATION_HANDLERS, "gkehub.projects.locations.operations.get")
def get_operation(call: Call) -> dict[str, Any]:
    return render(_record(call))


@route(OPERATION_HANDLERS, "gkehub.projects.locations.operations.list")
def list_operations(call: Call) -> dict[str, Any]:
    _, number, location = guard(call, call.params["name"])
    prefix = f"projects/{number}/locations/{'' if location == '-' else location + '/'}"
    records = [r for r in call.rt.operations.list(API, prefix) if not r["info"].get("deleted")]
    return {"operations": [render(r) for r in records]} if records else {}


@route(OPERATION_HANDLERS, "gkehub.projects.locations.operations.cancel")
def cancel_operation(call: Call) -> dict[str, Any]:
    # Cancellation is best effort on Google; here it is recorded and the work completes.
    record = _record(call)
    if record["done"]:
        raise failed_precondition(f"Operation '{record['name']}' is already done.")
    metadata = {**record["info"]["metadata"], "cancelRequested": True}
    call.rt.operations.update_info(API, record["name"], metadata=metadata)
    return {}


@route(OPERATION_HANDLERS, "gkehub.projects.locations.operations.delete")
def delete_operation(call: Call) -> dict[str, Any]:
    record = _record(call)
    call.rt.operations.update_info(API, record["name"], deleted=True)
    return {}
