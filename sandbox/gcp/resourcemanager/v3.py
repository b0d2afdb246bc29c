"""Resource Manager v3: projects (create, get, list, search, patch, delete, undelete), operations.

Project IDs are global and stay reserved after deletion; an unknown project answers 403 as on
Google. Every mutation is a long-running operation (`operations/cp.N`) applied when it is done.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import latency, longrunning
from sandbox.api import Call, Handlers
from sandbox.effects import effect, make_effect
from sandbox.errors import already_exists, failed_precondition, invalid_argument
from sandbox.gcp.resourcemanager import query as project_query
from sandbox.gcp.resourcemanager.projects import (
    ACTIVE,
    DELETE_REQUESTED,
    NUMBERS,
    PROJECTS,
    activate,
    caller_denied,
    find,
    public,
    set_state,
    update_fields,
    v1_view,
)
from sandbox.listing import page
from sandbox.runtime import Runtime
from sandbox.schema import camel

HANDLERS = Handlers(
    "cloudresourcemanager.v3",
    proto=("google.cloud.resourcemanager.v3", "google.cloud.resourcemanager_v3"),
)
API = "cloudresourcemanager"
_TYPE = "type.googleapis.com/google.cloud.resourcemanager.v3."
_V1_TYPE = "type.googleapis.com/google.cloudresourcemanager.v1.Project"
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_PARENT = re.compile(r"^(folders|organizations)/\d+$")
_LABEL_KEY = re.compile(r"^[\w\-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[\w\-]{0,63}$")
_MUTABLE = ("displayName", "labels")
# First project number handed out; numbers look like real ones (12 digits).
_NUMBER_BASE = 200_000_000_000

latency.declare(
    {
        "cloudresourcemanager.projects.create": (8.0, 30.0),
        "cloudresourcemanager.projects.delete": (2.0, 5.0),
        "cloudresourcemanager.projects.undelete": (2.0, 5.0),
        "cloudresourcemanager.projects.patch": (2.0, 5.0),
    }
)


def check_labels(labels: dict[str, str], field_path: str) -> None:
    """Google's label rules: ≤ 64, lowercase keys starting with a letter, ≤ 63 characters."""
    if len(labels) > 64:
        raise invalid_argument("A resource can have at most 64 labels.", field_path)
    for key, value in labels.items():
        if not key or not key[0].isalpha() or not key.islower() or not _LABEL_KEY.match(key):
            raise invalid_argument(f"Invalid label key '{key}'.", f"{field_path}[{key}]")
        if value != value.lower() or not _LABEL_VALUE.match(value):
            raise invalid_argument(f"Invalid label value '{value}'.", f"{field_path}[{key}]")


def start_operation(
    call: Call, kind: str, project_id: str, metadata: str, version: str = "v3", **args: Any
) -> dict[str, Any]:
    """Start a project operation (`operations/cp.N`) whose effect is `kind`; render it."""
    name = f"operations/cp.{7_000_000_000_000_000_000 + call.rt.store.next_value('rm.ops')}"
    forget = make_effect("rm.project.forget", projectId=project_id)
    record = call.rt.operations.start(
        api=API,
        name=name,
        method=call.method.id,
        effect=make_effect(kind, projectId=project_id, version=version, **args),
        failure_effect=forget if kind == "rm.project.activate" else None,
        info={
            "responseType": _V1_TYPE if version == "v1" else _TYPE + "Project",
            "metadata": {"@type": _TYPE + metadata},
        },
    )
    return render(record)


def render(record: dict[str, Any]) -> dict[str, Any]:
    """A project operation as google.longrunning.Operation."""
    extra: dict[str, Any] = {}
    if record["method"].endswith("projects.create"):
        extra = {"gettable": record["done"], "ready": record["done"]}
    return longrunning.render(record, extra)


def _visible(call: Call, name: str) -> dict[str, Any]:
    project = find(call.rt, name)
    if project is None:
        raise caller_denied(name)
    return project


def create_project(
    call: Call,
    project_id: str,
    *,
    parent: str,
    labels: dict[str, str],
    display: str,
    version: str,
) -> dict[str, Any]:
    """Check and reserve a project ID, then start the create operation (v1 and v3)."""
    if not _PROJECT_ID.match(project_id):
        raise invalid_argument(
            f"Project id '{project_id}' is invalid: use 6 to 30 lowercase letters, digits or "
            "hyphens, starting with a letter and not ending with a hyphen.",
            "project.project_id",
        )
    if parent and not _PARENT.match(parent):
        raise invalid_argument(f"Invalid parent '{parent}'.", "project.parent")
    check_labels(labels, "project.labels")
    if not 4 <= len(display) <= 30:
        raise invalid_argument("displayName must be 4 to 30 characters.", "project.display_name")
    store = call.rt.store
    with store.transaction():
        if store.get(PROJECTS, project_id) is not None:
            raise already_exists("Requested entity already exists")
        number = str(_NUMBER_BASE + store.next_value("rm.project-number"))
        doc: dict[str, Any] = {
            "name": f"projects/{number}",
            "projectId": project_id,
            "state": ACTIVE,
            "displayName": display,
            "labels": dict(labels),
            "_creating": True,
        }
        if parent:
            doc["parent"] = parent
        store.put(PROJECTS, project_id, doc)
        store.put(NUMBERS, number, {"projectId": project_id})
        return start_operation(
            call, "rm.project.activate", project_id, "CreateProjectMetadata", version
        )


def _view(doc: dict[str, Any] | None, args: dict[str, Any]) -> dict[str, Any] | None:
    if doc is None:
        return None
    return v1_view(doc) if args.get("version") == "v1" else public(doc)


@effect("rm.project.activate")
def _activate(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    return _view(activate(rt, args["projectId"]), args)


@effect("rm.project.forget")
def _forget(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(PROJECTS, args["projectId"])
    if doc is not None and doc.get("_creating"):
        rt.store.delete(PROJECTS, args["projectId"])
        rt.store.delete(NUMBERS, doc["name"].removeprefix("projects/"))
    return None


@effect("rm.project.update")
def _update(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    return _view(update_fields(rt, args["projectId"], args["fields"]), args)


@effect("rm.project.state")
def _state(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    return _view(set_state(rt, args["projectId"], args["state"]), args)


@HANDLERS("cloudresourcemanager.projects.create")
def create(call: Call) -> dict[str, Any]:
    body = call.body
    project_id = call.require(body.get("projectId"), "project.project_id")
    display = body.get("displayName", project_id)
    return create_project(
        call,
        project_id,
        parent=body.get("parent", ""),
        labels=body.get("labels", {}),
        display=display,
        version="v3",
    )


@HANDLERS("cloudresourcemanager.projects.get")
def get(call: Call) -> dict[str, Any]:
    return public(_visible(call, call.params["name"]))


@HANDLERS("cloudresourcemanager.projects.list")
def list_(call: Call) -> dict[str, Any]:
    parent = call.require(call.arg("parent"), "parent")
    show_deleted = bool(call.arg("showDeleted", False))
    found = [
        public(doc)
        for doc in call.rt.store.values(PROJECTS)
        if not doc.get("_creating")
        and doc.get("parent") == parent
        and (show_deleted or doc["state"] == ACTIVE)
    ]
    items, token = page(call.query, found, default_size=1000)
    return _listed(items, token)


def _listed(items: list[dict[str, Any]], token: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if items:
        body["projects"] = items
    if token:
        body["nextPageToken"] = token
    return body


@HANDLERS("cloudresourcemanager.projects.search")
def search(call: Call) -> dict[str, Any]:
    query = project_query.parse(call.arg("query", ""))
    with_state = project_query.mentions_state(query)
    found = [
        public(doc)
        for doc in call.rt.store.values(PROJECTS)
        if not doc.get("_creating")
        and (with_state or doc["state"] == ACTIVE)
        and project_query.matches(doc, query)
    ]
    items, token = page(call.query, found, default_size=1000)
    return _listed(items, token)


@HANDLERS("cloudresourcemanager.projects.patch")
def patch(call: Call) -> dict[str, Any]:
    project = _visible(call, call.params["name"])
    mask = call.arg("updateMask")
    paths = [camel(p.strip()) for p in mask.split(",") if p.strip()] if mask else None
    if paths is None:
        paths = [field for field in _MUTABLE if field in call.body]
    for path in paths:
        if path not in _MUTABLE:
            raise invalid_argument(f"Invalid update mask path '{path}'.", "update_mask")
    if "labels" in paths:
        check_labels(call.body.get("labels", {}), "project.labels")
    fields = {path: call.body.get(path, {} if path == "labels" else "") for path in paths}
    return start_operation(
        call, "rm.project.update", project["projectId"], "UpdateProjectMetadata", fields=fields
    )


@HANDLERS("cloudresourcemanager.projects.delete")
def delete(call: Call) -> dict[str, Any]:
    project = _visible(call, call.params["name"])
    if project["state"] != ACTIVE:
        raise failed_precondition(f"Project {project['projectId']} is not in the ACTIVE state.")
    return start_operation(
        call,
        "rm.project.state",
        project["projectId"],
        "DeleteProjectMetadata",
        state=DELETE_REQUESTED,
    )


@HANDLERS("cloudresourcemanager.projects.undelete")
def undelete(call: Call) -> dict[str, Any]:
    project = _visible(call, call.params["name"])
    if project["state"] != DELETE_REQUESTED:
        raise failed_precondition(
            f"Project {project['projectId']} is not in the DELETE_REQUESTED state."
        )
    return start_operation(
        call, "rm.project.state", project["projectId"], "UndeleteProjectMetadata", state=ACTIVE
    )


@HANDLERS("cloudresourcemanager.operations.get")
def get_operation(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    record = call.rt.operations.get(API, name)
    if record is None:
        raise longrunning.missing(name)
    return render(record)
