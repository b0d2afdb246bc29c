"""IAM: service accounts, and role bindings on projects and on service accounts (read-modify-
write with the policy's etag, so concurrent edits are not lost). Service accounts go through
google-api-python-client: google-cloud-iam ships no REST transport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.protobuf import json_format

from mlplat.gcp import clients, discovery_calls
from mlplat.gcp.errors import guarded
from mlplat.target import Target

TOKENINFO = "https://oauth2.googleapis.com/tokeninfo"
Bindings = dict[str, set[str]]  # role → members
Policy = dict[str, Any]


def _execute(what: str, request: Callable[[], Any], *, missing_ok: bool = False) -> Any:
    return discovery_calls.execute("iam.v1", what, request, missing_ok=missing_ok)


def _accounts(target: Target) -> Any:
    return clients.iam(target).projects().serviceAccounts()


def service_account_name(project: str, email: str) -> str:
    return f"projects/{project}/serviceAccounts/{email}"


def get_service_account(target: Target, project: str, email: str) -> dict[str, Any] | None:
    name = service_account_name(project, email)
    found: dict[str, Any] | None = _execute(
        f"iam/service-account {email}: get",
        lambda: _accounts(target).get(name=name),
        missing_ok=True,
    )
    return found


def list_service_accounts(target: Target, project: str) -> list[dict[str, Any]]:
    """Every service account of the project (all pages)."""
    accounts: list[dict[str, Any]] = []
    token = None
    while True:
        page = _execute(
            f"iam/service-accounts of {project}: list",
            lambda token=token: _accounts(target).list(  # type: ignore[misc]
                name=f"projects/{project}", pageToken=token
            ),
        )
        accounts += page.get("accounts", [])
        token = page.get("nextPageToken")
        if not token:
            return accounts


def create_service_account(
    target: Target, project: str, account_id: str, display_name: str, description: str
) -> dict[str, Any]:
    body = {
        "accountId": account_id,
        "serviceAccount": {"displayName": display_name, "description": description},
    }
    created: dict[str, Any] = _execute(
        f"iam/service-account {account_id}: create",
        lambda: _accounts(target).create(name=f"projects/{project}", body=body),
    )
    return created


def delete_service_account(target: Target, project: str, email: str) -> None:
    _execute(
        f"iam/service-account {email}: delete",
        lambda: _accounts(target).delete(name=service_account_name(project, email)),
        missing_ok=True,
    )


def bindings_of(policy: Policy) -> Bindings:
    """Role → members of the unconditional bindings of `policy`."""
    return {
        b["role"]: set(b.get("members", []))
        for b in policy.get("bindings", [])
        if not b.get("condition")
    }


def missing_bindings(current: Bindings, wanted: Bindings) -> Bindings:
    """The role → members of `wanted` that `current` lacks (nothing is ever removed)."""
    missing = {role: members - current.get(role, set()) for role, members in wanted.items()}
    return {role: members for role, members in missing.items() if members}


def _with(policy: Policy, missing: Bindings) -> Policy:
    updated: Policy = json.loads(json.dumps(policy))
    bindings: list[dict[str, Any]] = updated.setdefault("bindings", [])
    for role, members in sorted(missing.items()):
        existing = next((b for b in bindings if b["role"] == role and not b.get("condition")), None)
        if existing is None:
            bindings.append({"role": role, "members": sorted(members)})
        else:
            existing["members"] = sorted({*existing.get("members", []), *members})
    return updated


def _ensure(
    get: Callable[[], Policy], set_: Callable[[Policy], Any], wanted: Bindings, dry_run: bool
) -> Bindings:
    policy = get()
    missing = missing_bindings(bindings_of(policy), wanted)
    if missing and not dry_run:
        set_(_with(policy, missing))  # carries the etag read above: a concurrent edit fails
    return missing


def ensure_project_bindings(
    target: Target, project: str, wanted: Bindings, *, dry_run: bool = False
) -> Bindings:
    """Add the wanted role bindings to the project; returns what was (or would be) added."""
    resource = f"projects/{project}"
    rm = clients.projects(target)

    def get() -> Policy:
        request = iam_policy_pb2.GetIamPolicyRequest(resource=resource)
        found = guarded(
            f"project {project}: get policy", lambda: rm.get_iam_policy(request=request)
        )
        policy: Policy = json_format.MessageToDict(found)
        return policy

    def set_(policy: Policy) -> None:
        message = json_format.ParseDict(policy, policy_pb2.Policy())
        request = iam_policy_pb2.SetIamPolicyRequest(resource=resource, policy=message)
        guarded(f"project {project}: set policy", lambda: rm.set_iam_policy(request=request))

    return _ensure(get, set_, wanted, dry_run)


def project_policy(target: Target, project: str) -> Policy:
    """The project's IAM policy, as Google's JSON."""
    rm = clients.projects(target)
    request = iam_policy_pb2.GetIamPolicyRequest(resource=f"projects/{project}")
    found = guarded(f"project {project}: get policy", lambda: rm.get_iam_policy(request=request))
    policy: Policy = json_format.MessageToDict(found)
    return policy


def remove_project_bindings(target: Target, project: str, unwanted: Bindings) -> Bindings:
    """Take each role's members in `unwanted` out of the project's policy (conditional bindings
    of that role included); returns what was removed. One read and one write, with the etag."""
    policy = project_policy(target, project)
    removed: Bindings = {}
    bindings = []
    for binding in policy.get("bindings", []):
        members = binding.get("members", [])
        gone = unwanted.get(binding["role"], set()) & set(members)
        kept = binding
        if gone:
            removed.setdefault(binding["role"], set()).update(gone)
            kept = {**binding, "members": [m for m in members if m not in gone]}
            if not kept["members"]:
                continue
        bindings.append(kept)
    if removed:
        message = json_format.ParseDict({**policy, "bindings": bindings}, policy_pb2.Policy())
        request = iam_policy_pb2.SetIamPolicyRequest(resource=f"projects/{project}", policy=message)
        rm = clients.projects(target)
        guarded(f"project {project}: set policy", lambda: rm.set_iam_policy(request=request))
    return removed


def caller(target: Target) -> str:
    """The IAM member mlplat calls Google as, when it can tell: the sandbox says so; Google's
    Application Default Credentials name their service account, and a user's access token
    names its user at Google's tokeninfo endpoint. "" when unknown. Asked once per target (a
    run's target is one set of credentials), however many environments it checks."""
    if target.caller or target.is_sandbox:
        return target.caller
    with _ASKING:
        if target not in _CALLERS:
            found = _adc_caller()
            if found is None:
                return ""  # not answered: the next environment asks again
            _CALLERS[target] = found
        return _CALLERS[target]


_CALLERS: dict[Target, str] = {}
_ASKING = threading.Lock()


def _adc_caller() -> str | None:
    """The member of the Application Default Credentials; None when Google did not answer.
    The access token goes in a POST body, never in a URL (URLs end up in logs)."""
    import google.auth  # noqa: PLC0415 - only against Google itself
    from google.auth.transport.requests import AuthorizedSession, Request  # noqa: PLC0415

    credentials, _ = google.auth.default()
    email = str(getattr(credentials, "service_account_email", "") or "")
    if "@" in email:
        return f"serviceAccount:{email}"
    try:
        credentials.refresh(Request())  # type: ignore[no-untyped-call]
        answer = AuthorizedSession(credentials).post(  # type: ignore[no-untyped-call]
            TOKENINFO, data={"access_token": credentials.token}, timeout=30
        )
        if answer.status_code >= 500:
            return None
        email = str(answer.json().get("email", "")) if answer.ok else ""
    except (OSError, ValueError, google.auth.exceptions.GoogleAuthError):
        return None
    return f"user:{email}" if "@" in email else ""


def remove_project_member(
    target: Target, project: str, member: str, *, dry_run: bool = False
) -> list[str]:
    """Take `member` out of every unconditional binding of the project's policy; returns the
    roles it held."""
    resource = f"projects/{project}"
    rm = clients.projects(target)
    request = iam_policy_pb2.GetIamPolicyRequest(resource=resource)
    found = guarded(f"project {project}: get policy", lambda: rm.get_iam_policy(request=request))
    policy: Policy = json_format.MessageToDict(found)
    held = sorted(role for role, members in bindings_of(policy).items() if member in members)
    if not held or dry_run:
        return held
    bindings = []
    for binding in policy.get("bindings", []):
        kept = binding
        if not binding.get("condition") and member in binding.get("members", []):
            kept = {**binding, "members": [m for m in binding["members"] if m != member]}
            if not kept["members"]:
                continue
        bindings.append(kept)
    message = json_format.ParseDict({**policy, "bindings": bindings}, policy_pb2.Policy())
    update = iam_policy_pb2.SetIamPolicyRequest(resource=resource, policy=message)
    guarded(f"project {project}: set policy", lambda: rm.set_iam_policy(request=update))
    return held


def ensure_service_account_bindings(
    target: Target, project: str, email: str, wanted: Bindings, *, dry_run: bool = False
) -> Bindings:
    """Add role bindings on a service account (e.g. Workload Identity users)."""
    resource = service_account_name(project, email)
    what = f"iam/service-account {email}"
    return _ensure(
        lambda: _execute(
            f"{what}: get policy", lambda: _accounts(target).getIamPolicy(resource=resource)
        ),
        lambda policy: _execute(
            f"{what}: set policy",
            lambda: _accounts(target).setIamPolicy(resource=resource, body={"policy": policy}),
        ),
        wanted,
        dry_run,
    )
