"""Resource Manager v1 over the same projects: gcloud's `projects describe/list/create/delete/
undelete/update` use v1. In v1, delete, undelete and update are synchronous."""

from __future__ import annotations

from typing import Any

from sandbox import longrunning
from sandbox.api import Call, Handlers
from sandbox.errors import failed_precondition
from sandbox.gcp.resourcemanager import query as project_query
from sandbox.gcp.resourcemanager.projects import (
    ACTIVE,
    DELETE_REQUESTED,
    PROJECTS,
    Project,
    caller_denied,
    find,
    set_state,
    update_fields,
    v1_view,
)
from sandbox.gcp.resourcemanager.v3 import API, check_labels, create_project, render
from sandbox.listing import page

HANDLERS = Handlers("cloudresourcemanager.v1")


def _visible(call: Call) -> Project:
    project = find(call.rt, call.params["projectId"])
    if project is None:
        raise caller_denied(call.params["projectId"])
    return project


@HANDLERS("cloudresourcemanager.projects.get")
def get(call: Call) -> dict[str, Any]:
    return v1_view(_visible(call))


@HANDLERS("cloudresourcemanager.projects.list")
def list_(call: Call) -> dict[str, Any]:
    # Unlike v3 search, v1 list includes projects pending deletion unless the filter says so.
    query = project_query.parse(call.arg("filter", ""))
    found = [
        v1_view(doc)
        for doc in call.rt.store.values(PROJECTS)
        if not doc.get("_creating") and project_query.matches(doc, query)
    ]
    items, token = page(call.query, found, default_size=1000)
    body: dict[str, Any] = {"projects": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


@HANDLERS("cloudresourcemanager.projects.create")
def create(call: Call) -> dict[str, Any]:
    body = call.body
    project_id = call.require(body.get("projectId"), "project.project_id")
    parent = body.get("parent") or {}
    parent_name = f"{parent['type']}s/{parent['id']}" if parent.get("type") else ""
    display = body.get("name", project_id)
    return create_project(
        call,
        project_id,
        parent=parent_name,
        labels=body.get("labels", {}),
        display=display,
        version="v1",
    )


@HANDLERS("cloudresourcemanager.projects.delete")
def delete(call: Call) -> dict[str, Any]:
    project = _visible(call)
    if project["state"] != ACTIVE:
        raise failed_precondition(f"Project {project['projectId']} is not in the ACTIVE state.")
    set_state(call.rt, project["projectId"], DELETE_REQUESTED)
    return {}


@HANDLERS("cloudresourcemanager.projects.undelete")
def undelete(call: Call) -> dict[str, Any]:
    project = _visible(call)
    if project["state"] != DELETE_REQUESTED:
        raise failed_precondition(
            f"Project {project['projectId']} is not in the DELETE_REQUESTED state."
        )
    set_state(call.rt, project["projectId"], ACTIVE)
    return {}


@HANDLERS("cloudresourcemanager.projects.update")
def update(call: Call) -> dict[str, Any]:
    project = _visible(call)
    labels = call.body.get("labels", {})
    check_labels(labels, "project.labels")
    fields = {"labels": labels, "displayName": call.body.get("name", project["projectId"])}
    updated = update_fields(call.rt, project["projectId"], fields)
    return v1_view(updated or project)


@HANDLERS("cloudresourcemanager.operations.get")
def get_operation(call: Call) -> dict[str, Any]:
    name = call.params["name"]
    record = call.rt.operations.get(API, name)
    if record is None:
        raise longrunning.missing(name)
    return render(record)
