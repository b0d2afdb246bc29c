"""Service Usage v1: enable, batchEnable, disable, get, list, batchGet; and `require_enabled`.

Projects are addressed by ID or number; names in responses use the number, like Google. Enabling
a service that needs billing fails without a billing link. In realistic mode an enabled service
still answers SERVICE_DISABLED for a propagation window.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox import latency, longrunning
from sandbox.api import Call, Handlers
from sandbox.effects import effect, make_effect
from sandbox.errors import (
    failed_precondition,
    invalid_argument,
    permission_denied,
    service_disabled,
)
from sandbox.gcp.billing import billing_enabled, billing_settled
from sandbox.gcp.resourcemanager.projects import Project, number_of, usable
from sandbox.gcp.serviceusage import catalog
from sandbox.listing import page
from sandbox.runtime import Runtime

HANDLERS = Handlers(
    "serviceusage.v1", proto=("google.api.serviceusage.v1", "google.cloud.service_usage_v1")
)
API = "serviceusage"
STATES = "serviceusage.states"  # key: "<project id>/<service>"
_TYPE = "type.googleapis.com/google.api.serviceusage.v1."
MAX_BATCH = 20

latency.declare(
    {
        "serviceusage.services.enable": (25.0, 75.0),
        "serviceusage.enable.heavy": (45.0, 120.0),
        "serviceusage.enable.noop": (2.0, 4.0),
        "serviceusage.services.disable": (10.0, 30.0),
        "window:serviceusage.propagation": (30.0, 90.0),
    }
)


def _state(rt: Runtime, project: Project, service: str) -> dict[str, Any]:
    stored = rt.store.get(STATES, f"{project['projectId']}/{service}")
    if stored is not None:
        return stored
    info = catalog.lookup(service)
    return {"state": "ENABLED" if info and info.default_enabled else "DISABLED", "usableAt": 0}


def is_enabled(rt: Runtime, project: Project, service: str) -> bool:
    """True when the service is enabled on the project (as `services.get` reports it)."""
    return bool(_state(rt, project, service)["state"] == "ENABLED")


def require_enabled(rt: Runtime, project: Project | str, service: str) -> Project:
    """The project, or 403 SERVICE_DISABLED when `service` is not enabled (or not yet usable
    after a recent enable, in realistic mode). `project` is a document, an ID or a number."""
    doc = usable(rt, project) if isinstance(project, str) else project
    state = _state(rt, doc, service)
    if state["state"] != "ENABLED" or rt.now() < float(state.get("usableAt", 0)):
        info = catalog.lookup(service)
        raise service_disabled(service, info.title if info else service, number_of(doc))
    return doc


def _view(rt: Runtime, project: Project, service: str) -> dict[str, Any]:
    info = catalog.lookup(service)
    parent = f"projects/{number_of(project)}"
    return {
        "name": f"{parent}/services/{service}",
        "parent": parent,
        "config": {"name": service, "title": info.title if info else service},
        "state": _state(rt, project, service)["state"],
    }


def _known(names: list[str]) -> None:
    unknown = [name for name in names if catalog.lookup(name) is None]
    if unknown:
        raise permission_denied(
            f"Not found or permission denied for service(s): {', '.join(unknown)}.",
            reason="SERVICE_CONFIG_NOT_FOUND_OR_PERMISSION_DENIED",
            domain="serviceusage.googleapis.com",
            metadata={"services": ",".join(unknown)},
        )


def _check_billing(rt: Runtime, project: Project, names: list[str]) -> None:
    gated = [n for n in names if (info := catalog.lookup(n)) and info.needs_billing]
    if not gated:
        return
    number = number_of(project)
    if not billing_enabled(rt, project):
        raise failed_precondition(
            f"Billing account for project '{number}' is not found. Billing must be enabled for "
            f"activation of service(s) '{','.join(gated)}' to proceed.",
            reason="UREQ_PROJECT_BILLING_NOT_FOUND",
            domain="serviceusage.googleapis.com",
            metadata={"project": number, "services": ",".join(gated)},
        )
    if not billing_settled(rt, project):
        raise permission_denied(
            "The project to be billed is associated with an absent billing account.",
            reason="BILLING_DISABLED",
            metadata={"consumer": f"projects/{number}"},
        )


def _start_enable(call: Call, project: Project, names: list[str], batch: bool) -> dict[str, Any]:
    rt = call.rt
    _known(names)
    _check_billing(rt, project, catalog.with_dependencies(names))
    pending = [n for n in names if not is_enabled(rt, project, n)]
    if not pending:
        key = "serviceusage.enable.noop"
    elif any(info.heavy for n in pending if (info := catalog.lookup(n))):
        key = "serviceusage.enable.heavy"
    else:
        key = "serviceusage.services.enable"
    response = "BatchEnableServicesResponse" if batch else "EnableServiceResponse"
    number = number_of(project)
    record = rt.operations.start(
        api=API,
        name=f"operations/acf.p2-{number}-{uuid.uuid4()}",
        method=call.method.id,
        duration=rt.latency.operation(key),
        effect=make_effect(
            "serviceusage.enable", projectId=project["projectId"], services=names, batch=batch
        ),
        info={
            "responseType": _TYPE + response,
            "metadata": {
                "@type": _TYPE + "OperationMetadata",
                "resourceNames": [f"services/{n}/projectSettings/{number}" for n in names],
            },
        },
    )
    return longrunning.render(record)


@effect("serviceusage.enable")
def _enable(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    project = usable(rt, args["projectId"])
    for name in catalog.with_dependencies(args["services"]):
        if is_enabled(rt, project, name):
            continue
        with latency.subject(f"projects/{project['projectId']}/services/{name}"):
            usable_at = rt.now() + rt.latency.window("window:serviceusage.propagation")
        rt.store.put(
            STATES, f"{project['projectId']}/{name}", {"state": "ENABLED", "usableAt": usable_at}
        )
    views = [_view(rt, project, name) for name in args["services"]]
    return {"services": views} if args["batch"] else {"service": views[0]}


def _split_name(name: str) -> tuple[str, str]:
    parent, _, service = name.partition("/services/")
    return parent.removeprefix("projects/"), service


@HANDLERS("serviceusage.services.enable")
def enable(call: Call) -> dict[str, Any]:
    ref, service = _split_name(call.params["name"])
    return _start_enable(call, usable(call.rt, ref), [service], batch=False)


@HANDLERS("serviceusage.services.batchEnable")
def batch_enable(call: Call) -> dict[str, Any]:
    project = usable(call.rt, call.params["parent"].removeprefix("projects/"))
    names = list(dict.fromkeys(call.body.get("serviceIds", [])))
    if not names:
        raise invalid_argument("serviceIds must not be empty.", "service_ids")
    if len(names) > MAX_BATCH:
        raise invalid_argument(
            f"At most {MAX_BATCH} services can be enabled in one request.", "service_ids"
        )
    return _start_enable(call, project, names, batch=True)


@HANDLERS("serviceusage.services.disable")
def disable(call: Call) -> dict[str, Any]:
    ref, service = _split_name(call.params["name"])
    project = usable(call.rt, ref)
    _known([service])
    active = [d for d in catalog.dependents(service) if is_enabled(call.rt, project, d)]
    if active and not call.body.get("disableDependentServices"):
        raise failed_precondition(
            f"The service {service} is depended on by the following active service(s): "
            f"{','.join(active)}; Please specify disable_dependent_services=true if you want to "
            "proceed with disabling all services.",
            reason="COMMON_SU_SERVICE_HAS_DEPENDENT_SERVICES",
            domain="serviceusage.googleapis.com",
        )
    record = call.rt.operations.start(
        api=API,
        name=f"operations/acat.p2-{number_of(project)}-{uuid.uuid4()}",
        method=call.method.id,
        effect=make_effect(
            "serviceusage.disable", projectId=project["projectId"], services=[*active, service]
        ),
        info={
            "responseType": _TYPE + "DisableServiceResponse",
            "metadata": {"@type": _TYPE + "OperationMetadata"},
        },
    )
    return longrunning.render(record)


@effect("serviceusage.disable")
def _disable(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    project = usable(rt, args["projectId"])
    for name in args["services"]:
        rt.store.put(STATES, f"{project['projectId']}/{name}", {"state": "DISABLED", "usableAt": 0})
    return {"service": _view(rt, project, args["services"][-1])}


@HANDLERS("serviceusage.services.get")
def get(call: Call) -> dict[str, Any]:
    ref, service = _split_name(call.params["name"])
    project = usable(call.rt, ref)
    _known([service])
    return _view(call.rt, project, service)


@HANDLERS("serviceusage.services.batchGet")
def batch_get(call: Call) -> dict[str, Any]:
    project = usable(call.rt, call.params["parent"].removeprefix("projects/"))
    names = [_split_name(name)[1] for name in call.arg("names", [])]
    if len(names) > MAX_BATCH:
        raise invalid_argument(f"At most {MAX_BATCH} names per request.", "names")
    _known(names)
    return {"services": [_view(call.rt, project, name) for name in names]}


@HANDLERS("serviceusage.services.list")
def list_(call: Call) -> dict[str, Any]:
    project = usable(call.rt, call.params["parent"].removeprefix("projects/"))
    wanted = str(call.arg("filter", "")).replace(" ", "")
    if wanted not in ("", "state:ENABLED", "state:DISABLED"):
        raise invalid_argument(f"Invalid filter '{wanted}'.", "filter")
    stored = [
        key.split("/", 1)[1] for key, _ in call.rt.store.items(STATES, f"{project['projectId']}/")
    ]
    names = list(dict.fromkeys([*catalog.SERVICES, *stored]))
    views = [_view(call.rt, project, name) for name in names]
    if wanted:
        views = [v for v in views if v["state"] == wanted.removeprefix("state:")]
    items, token = page(call.query, views, default_size=200)
    body: dict[str, Any] = {"services": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


@HANDLERS("serviceusage.operations.get")
def get_operation(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    record = call.rt.operations.get(API, name)
    if record is None:
        raise longrunning.missing(name)
    return longrunning.render(record)
