"""Project state shared by every Google API: lookup by ID or number, the usable check, views,
and the state changes Resource Manager applies.

Documents live in collection `rm.projects`, keyed by project ID, in the v3 shape; only Resource
Manager changes them, the other APIs read them through these functions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from sandbox.clock import rfc3339
from sandbox.errors import ApiError, permission_denied
from sandbox.runtime import Runtime

PROJECTS = "rm.projects"
NUMBERS = "rm.project-numbers"
ACTIVE = "ACTIVE"
DELETE_REQUESTED = "DELETE_REQUESTED"

Project = dict[str, Any]
_NUMBER = re.compile(r"^\d+$")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored document without its sandbox-internal (`_`-prefixed) fields."""
    return {key: value for key, value in doc.items() if not key.startswith("_")}


def number_of(project: Project) -> str:
    """The project number, e.g. `123456789012`."""
    return str(project["name"]).removeprefix("projects/")


def find(rt: Runtime, ref: str, *, include_creating: bool = False) -> Project | None:
    """The project with this ID or number (`projects/` prefix allowed), or None.

    A project whose create operation has not finished is invisible unless asked for.
    """
    ref = ref.removeprefix("projects/")
    if _NUMBER.match(ref):
        index = rt.store.get(NUMBERS, ref)
        if index is None:
            return None
        ref = str(index["projectId"])
    doc = rt.store.get(PROJECTS, ref)
    if doc is None or (doc.get("_creating") and not include_creating):
        return None
    return doc


def caller_denied(ref: str, permission: str = "resourcemanager.projects.get") -> ApiError:
    """What Google answers for a project that does not exist or is not yours: 403, not 404."""
    resource = ref if ref.startswith("projects/") else f"projects/{ref}"
    return permission_denied(
        "The caller does not have permission",
        reason="IAM_PERMISSION_DENIED",
        domain="cloudresourcemanager.googleapis.com",
        metadata={"permission": permission, "resource": resource},
    )


def usable(rt: Runtime, ref: str) -> Project:
    """An ACTIVE project, for APIs other than Resource Manager.

    Unknown → 403 (as Google does); scheduled for deletion → 403 CONSUMER_INVALID.
    """
    project = find(rt, ref)
    if project is None:
        raise caller_denied(ref)
    if project["state"] != ACTIVE:
        raise permission_denied(
            f"Project '{project['name']}' not found or deleted.",
            reason="CONSUMER_INVALID",
            metadata={"consumer": project["name"]},
        )
    return project


def v1_view(doc: Project) -> dict[str, Any]:
    """The Resource Manager v1 Project JSON of a stored (v3-shaped) project."""
    body: dict[str, Any] = {
        "projectNumber": number_of(doc),
        "projectId": doc["projectId"],
        "lifecycleState": doc["state"],
        "name": doc.get("displayName", doc["projectId"]),
    }
    for key in ("createTime", "labels"):
        if doc.get(key):
            body[key] = doc[key]
    if doc.get("parent"):
        kind, _, ident = str(doc["parent"]).partition("/")
        body["parent"] = {"type": kind.removesuffix("s"), "id": ident}
    return body


def _etag(doc: Project) -> str:
    digest = hashlib.sha256(json.dumps(public(doc), sort_keys=True).encode()).digest()
    return "W/" + base64.b64encode(digest[:12]).decode()


def _save(rt: Runtime, doc: Project) -> Project:
    doc["updateTime"] = rfc3339(rt.now())
    doc.pop("etag", None)
    doc["etag"] = _etag(doc)
    rt.store.put(PROJECTS, doc["projectId"], doc)
    return doc


def activate(rt: Runtime, project_id: str) -> Project | None:
    """Finish creating a project: visible and ACTIVE from now on."""
    doc = rt.store.get(PROJECTS, project_id)
    if doc is None:
        return None
    doc.pop("_creating", None)
    doc["createTime"] = rfc3339(rt.now())
    return _save(rt, doc)


def set_state(rt: Runtime, project_id: str, state: str) -> Project | None:
    """Move a project to ACTIVE or DELETE_REQUESTED (with its deleteTime)."""
    doc = rt.store.get(PROJECTS, project_id)
    if doc is None:
        return None
    doc["state"] = state
    if state == DELETE_REQUESTED:
        doc["deleteTime"] = rfc3339(rt.now())
    else:
        doc.pop("deleteTime", None)
    return _save(rt, doc)


def update_fields(rt: Runtime, project_id: str, fields: dict[str, Any]) -> Project | None:
    """Replace mutable fields (displayName, labels)."""
    doc = rt.store.get(PROJECTS, project_id)
    if doc is None:
        return None
    doc.update(fields)
    return _save(rt, doc)
