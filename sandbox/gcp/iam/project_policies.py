"""Project IAM policies over Resource Manager v3 (`POST v3/projects/P:getIamPolicy`) and v1
(`POST v1/projects/P:getIamPolicy`, what gcloud's `projects get-iam-policy` and
`add-iam-policy-binding` use): one stored policy per project, shared by both versions.

A project whose policy was never set answers `roles/owner` for its creator, `OWNER`. Every
permission asked of `testIamPermissions` is granted (the sandbox has one all-powerful caller).
"""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.iam import policies
from sandbox.gcp.resourcemanager.projects import Project, caller_denied, find

V3_HANDLERS = Handlers(
    "cloudresourcemanager.v3",
    proto=("google.cloud.resourcemanager.v3", "google.cloud.resourcemanager_v3"),
)
V1_HANDLERS = Handlers("cloudresourcemanager.v1")
# Who created every sandbox project (the sandbox has no real callers).
OWNER = "user:sandbox@example.com"
# What a project whose policy was never set answers.
DEFAULT_POLICY = ({"role": "roles/owner", "members": [OWNER]},)


def _project(call: Call, permission: str) -> Project:
    ref = call.params["resource"]
    project = find(call.rt, ref)
    if project is None:
        raise caller_denied(ref, permission)
    return project


def _get(call: Call) -> dict[str, Any]:
    project = _project(call, "resourcemanager.projects.getIamPolicy")
    options = call.body.get("options") or {}
    policies.check_requested_version(options.get("requestedPolicyVersion"))
    key = policies.policy_key_of_project(str(project["projectId"]))
    return policies.read(call.rt, key, DEFAULT_POLICY)


def _set(call: Call) -> dict[str, Any]:
    project = _project(call, "resourcemanager.projects.setIamPolicy")
    key = policies.policy_key_of_project(str(project["projectId"]))
    return policies.write(call.rt, key, call.body, default=DEFAULT_POLICY)


def _test(call: Call) -> dict[str, Any]:
    _project(call, "resourcemanager.projects.get")
    permissions = list(call.body.get("permissions") or [])
    return {"permissions": permissions} if permissions else {}


for _handlers in (V3_HANDLERS, V1_HANDLERS):
    _handlers("cloudresourcemanager.projects.getIamPolicy")(_get)
    _handlers("cloudresourcemanager.projects.setIamPolicy")(_set)
    _handlers("cloudresourcemanager.projects.testIamPermissions")(_test)
