"""IAM v1 service accounts: create, get, list, patch, update, delete, undelete, enable,
disable, and each account's IAM policy (getIamPolicy, setIamPolicy, testIamPermissions).

Accounts are named `projects/P/serviceAccounts/<email or unique ID>`; P is a project ID or
number, or `-` (then the account's own project). Every method needs the IAM API enabled on the
project (403 SERVICE_DISABLED); an unknown project answers 403, an unknown account 404.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.api import Call, Handlers
from sandbox.errors import ApiError, already_exists, invalid_argument, not_found, permission_denied
from sandbox.gcp.iam import account_store, policies
from sandbox.gcp.resourcemanager.projects import Project, find, usable
from sandbox.gcp.serviceusage.services import require_enabled
from sandbox.listing import paginate
from sandbox.schema import camel

HANDLERS = Handlers("iam.v1")
SERVICE = "iam.googleapis.com"
_M = "iam.projects.serviceAccounts."
_ACCOUNT_ID = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_MAX_LENGTH = {"displayName": 100, "description": 256}
_RESOURCE_INFO = "type.googleapis.com/google.rpc.ResourceInfo"
# Roles that can be granted on a service account: basic roles, IAM's own, custom roles.
_ACCOUNT_ROLE = re.compile(r"^(roles/(owner|editor|viewer|iam\..+)|.+/roles/.+)$")


def _denied(ref: str, permission: str) -> ApiError:
    return permission_denied(
        f"Permission '{permission}' denied on resource (or it may not exist).",
        reason="IAM_PERMISSION_DENIED",
        domain="iam.googleapis.com",
        metadata={"permission": permission, "resource": f"projects/{ref}"},
    )


def _project(call: Call, ref: str, permission: str) -> Project:
    """An existing, active project with the IAM API enabled."""
    if find(call.rt, ref) is None:
        raise _denied(ref, permission)
    return require_enabled(call.rt, usable(call.rt, ref), SERVICE)


def _unknown() -> ApiError:
    return not_found("Unknown service account")


def _account(call: Call, permission: str) -> account_store.Account:
    """The account a method names (`name` or `resource`, perhaps `…/keys/K`), its project
    checked."""
    name = call.params.get("name") or call.params["resource"]
    project_ref, _, ref = name.removeprefix("projects/").partition("/serviceAccounts/")
    ref = ref.partition("/keys/")[0]
    rt = call.rt
    doc = account_store.find(rt, ref)
    if project_ref != "-":
        _project(call, project_ref, permission)
    else:
        parts = account_store.split_email(ref)
        owner = str(doc["projectId"]) if doc else (parts[1] if parts else "")
        if owner and find(rt, owner) is not None:
            _project(call, owner, permission)
    if doc is None:
        raise _unknown()
    return doc


account_of = _account


def _check_account_id(account_id: str) -> None:
    if not 6 <= len(account_id) <= 30:
        raise invalid_argument(
            f'The account ID "{account_id}" does not have a length between 6 and 30.',
            "account_id",
        )
    if not _ACCOUNT_ID.match(account_id):
        raise invalid_argument(
            f'The account ID "{account_id}" is invalid: it must start with a lowercase letter '
            "and contain only lowercase letters, digits and hyphens, not ending with a hyphen.",
            "account_id",
        )


def _checked_fields(source: dict[str, Any], paths: list[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for path in paths:
        if path not in _MAX_LENGTH:
            raise invalid_argument(f"Invalid update mask path '{path}'.", "update_mask")
        value = str(source.get(path, ""))
        if len(value) > _MAX_LENGTH[path]:
            raise invalid_argument(
                f"The {path} must be at most {_MAX_LENGTH[path]} characters.",
                f"service_account.{path}",
            )
        fields[path] = value
    return fields


def _apply(doc: account_store.Account, fields: dict[str, str]) -> None:
    for key, value in fields.items():
        if value:
            doc[key] = value
        else:
            doc.pop(key, None)


@HANDLERS(_M + "create")
def create(call: Call) -> dict[str, Any]:
    rt = call.rt
    ref = call.params["name"].removeprefix("projects/")
    project = _project(call, ref, "iam.serviceAccounts.create")
    account_id = str(call.require(call.body.get("accountId"), "account_id"))
    _check_account_id(account_id)
    source = call.body.get("serviceAccount") or {}
    fields = _checked_fields(source, [key for key in _MAX_LENGTH if key in source])
    project_id = str(project["projectId"])
    email = account_store.email_of(account_id, project_id)
    with rt.store.transaction():
        if account_store.find(rt, email) is not None:
            raise already_exists(
                f"Service account {account_id} already exists within project "
                f"projects/{project_id}.",
                details=[
                    {
                        "@type": _RESOURCE_INFO,
                        "resourceName": f"projects/{project_id}/serviceAccounts/{email}",
                    }
                ],
            )
        doc = account_store.new_account(rt, project, account_id, fields)
    return account_store.view(doc)


@HANDLERS(_M + "get")
def get(call: Call) -> dict[str, Any]:
    return account_store.view(_account(call, "iam.serviceAccounts.get"))


@HANDLERS(_M + "list")
def list_(call: Call) -> dict[str, Any]:
    ref = call.params["name"].removeprefix("projects/")
    project = _project(call, ref, "iam.serviceAccounts.list")
    found = [
        account_store.view(doc) for doc in account_store.in_project(call.rt, project["projectId"])
    ]
    size = min(int(call.arg("pageSize") or 20), 100)
    items, token = paginate(found, size, call.arg("pageToken"), default_size=100)
    body: dict[str, Any] = {"accounts": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


@HANDLERS(_M + "patch")
def patch(call: Call) -> dict[str, Any]:
    rt = call.rt
    source = call.body.get("serviceAccount") or {}
    mask = call.body.get("updateMask")
    if mask:
        paths = [camel(path.strip()) for path in str(mask).split(",") if path.strip()]
    else:
        paths = [key for key in _MAX_LENGTH if key in source]
    fields = _checked_fields(source, paths)
    with rt.store.transaction():
        doc = _account(call, "iam.serviceAccounts.update")
        _apply(doc, fields)
        account_store.save(rt, doc)
    return account_store.view(doc)


@HANDLERS(_M + "update")
def update(call: Call) -> dict[str, Any]:
    """The deprecated PUT: only displayName can change."""
    fields = _checked_fields(call.body, ["displayName"])
    with call.rt.store.transaction():
        doc = _account(call, "iam.serviceAccounts.update")
        _apply(doc, fields)
        account_store.save(call.rt, doc)
    return account_store.view(doc)


@HANDLERS(_M + "delete")
def delete(call: Call) -> dict[str, Any]:
    with call.rt.store.transaction():
        account_store.delete(call.rt, _account(call, "iam.serviceAccounts.delete"))
    return {}


@HANDLERS(_M + "undelete")
def undelete(call: Call) -> dict[str, Any]:
    rt = call.rt
    ref = call.params["name"].rpartition("/serviceAccounts/")[2]
    if not ref.isdigit():
        raise invalid_argument(
            "Undelete needs the service account's unique ID: projects/-/serviceAccounts/ID.",
            "name",
        )
    with rt.store.transaction():
        gone = account_store.deleted(rt, ref)
        if gone is None:
            if account_store.find(rt, ref) is not None:
                raise ApiError(400, "The service account is not deleted.", "FAILED_PRECONDITION")
            raise _unknown()
        _project(call, str(gone["projectId"]), "iam.serviceAccounts.undelete")
        restored = account_store.restore(rt, ref)
        if restored is None:
            raise ApiError(
                400,
                f"Cannot undelete: a service account with email {gone['email']} exists.",
                "FAILED_PRECONDITION",
            )
    return {"restoredAccount": account_store.view(restored)}


def _set_disabled(call: Call, disabled: bool) -> dict[str, Any]:
    verb = "disable" if disabled else "enable"
    with call.rt.store.transaction():
        doc = _account(call, f"iam.serviceAccounts.{verb}")
        if disabled:
            doc["disabled"] = True
        else:
            doc.pop("disabled", None)
        account_store.save(call.rt, doc)
    return {}


@HANDLERS(_M + "disable")
def disable(call: Call) -> dict[str, Any]:
    return _set_disabled(call, True)


@HANDLERS(_M + "enable")
def enable(call: Call) -> dict[str, Any]:
    return _set_disabled(call, False)


@HANDLERS(_M + "getIamPolicy")
def get_iam_policy(call: Call) -> dict[str, Any]:
    doc = _account(call, "iam.serviceAccounts.getIamPolicy")
    policies.check_requested_version(call.arg("options.requestedPolicyVersion"))
    return policies.read(call.rt, policies.policy_key_of_account(str(doc["uniqueId"])))


@HANDLERS(_M + "setIamPolicy")
def set_iam_policy(call: Call) -> dict[str, Any]:
    doc = _account(call, "iam.serviceAccounts.setIamPolicy")
    return policies.write(
        call.rt,
        policies.policy_key_of_account(str(doc["uniqueId"])),
        call.body,
        role_allowed=lambda role: bool(_ACCOUNT_ROLE.match(role)),
    )


@HANDLERS(_M + "testIamPermissions")
def test_iam_permissions(call: Call) -> dict[str, Any]:
    _account(call, "iam.serviceAccounts.get")
    permissions = list(call.body.get("permissions") or [])
    return {"permissions": permissions} if permissions else {}
