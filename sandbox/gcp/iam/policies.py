"""IAM policies (google.iam.v1.Policy) of projects and service accounts, shared by IAM and
Resource Manager: members and roles checked like Google, bindings normalized, etags for the
read-modify-write cycle (a stale etag → 409 ABORTED).

Policies live in `iam.policies`, keyed `projects/<project id>` or `serviceAccounts/<unique id>`
(an account re-created with the same email starts with an empty policy, as on Google). A
resource whose policy was never set answers its default bindings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.errors import ApiError, invalid_argument
from sandbox.gcp.iam import account_store
from sandbox.gcp.resourcemanager import projects
from sandbox.runtime import Runtime

POLICIES = "iam.policies"
# What Google answers as the etag of a policy that was never set (no bindings).
EMPTY_ETAG = "ACAB"
Binding = dict[str, Any]
RoleCheck = Callable[[str], bool]

_ROLE = re.compile(r"^(roles|(projects|organizations)/[^/]+/roles)/[A-Za-z0-9_.]{1,64}$")
_EMAIL = re.compile(r"^[^@\s:]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^([a-z0-9-]+\.)+[a-z]{2,}$")
_WORKLOAD_MEMBER = re.compile(
    r"^[a-z][a-z0-9-]{4,28}[a-z0-9]\.svc\.id\.goog"
    r"\[[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?/[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\]$"
)
_PRINCIPAL = re.compile(r"^principal(Set)?://iam\.googleapis\.com/.+$")
_SPECIAL = frozenset({"allUsers", "allAuthenticatedUsers"})
_CONCURRENT = (
    "There were concurrent policy changes. Please retry the whole read-modify-write with "
    "exponential backoff."
)


def policy_key_of_project(project_id: str) -> str:
    """The policy key of a project."""
    return f"projects/{project_id}"


def policy_key_of_account(unique_id: str) -> str:
    """The policy key of a service account (by unique ID)."""
    return f"serviceAccounts/{unique_id}"


def read(rt: Runtime, key: str, default: Iterable[Binding] = ()) -> dict[str, Any]:
    """The policy JSON of a resource (its default bindings when never set)."""
    return _render(_live(rt, _stored(key, rt, list(default))))


def check_requested_version(version: Any) -> None:
    """`options.requestedPolicyVersion` must be 0, 1 or 3."""
    if version not in (None, 0, 1, 3):
        raise invalid_argument(
            f"Invalid requested policy version: {version}. Valid values are 0, 1 and 3.",
            "options.requested_policy_version",
        )


def write(
    rt: Runtime,
    key: str,
    request: dict[str, Any],
    *,
    default: Iterable[Binding] = (),
    role_allowed: RoleCheck = lambda role: True,
) -> dict[str, Any]:
    """Apply a SetIamPolicyRequest body (`policy`, optional `updateMask`) and return the new
    policy. The etag sent must be the current one (or absent: an unconditional write)."""
    policy = request.get("policy")
    if not isinstance(policy, dict):
        raise invalid_argument("Required field 'policy' is missing.", "policy")
    paths = _mask(request.get("updateMask"))
    with rt.store.transaction():
        current = _stored(key, rt, list(default))
        sent = policy.get("etag")
        if sent and _etag_bytes(sent) != _etag_bytes(current["etag"]):
            raise ApiError(409, _CONCURRENT, "ABORTED")
        bindings = current["bindings"]
        if "bindings" in paths:
            bindings = normalize(policy.get("bindings", []))
            _check_bindings(rt, bindings, role_allowed)
            _check_version(policy.get("version", 0), bindings)
        stored: dict[str, Any] = {"bindings": bindings, "etag": _new_etag(rt)}
        uids = _account_uids(rt, bindings) if "bindings" in paths else current.get("uids")
        if uids:
            stored["uids"] = uids
        audit = policy.get("auditConfigs") if "auditConfigs" in paths else current.get("audit")
        if audit:
            stored["audit"] = audit
        rt.store.put(POLICIES, key, stored)
    return _render(_live(rt, stored))


def normalize(bindings: list[Binding]) -> list[Binding]:
    """Merge bindings of the same role and condition, drop duplicate members and empty
    bindings; sorted by role, members sorted (as Google answers them)."""
    merged: dict[tuple[str, str], Binding] = {}
    for binding in bindings:
        role = str(binding.get("role", ""))
        condition = binding.get("condition")
        slot = merged.setdefault(
            (role, repr(sorted((condition or {}).items()))),
            {"role": role, "members": [], **({"condition": condition} if condition else {})},
        )
        slot["members"].extend(m for m in binding.get("members", []) if m not in slot["members"])
    result = [b for b in merged.values() if b["members"]]
    for binding in result:
        binding["members"].sort()
    return sorted(result, key=lambda b: (b["role"], repr(b.get("condition"))))


def _mask(mask: Any) -> set[str]:
    if not mask:
        return {"bindings", "etag"}
    paths = {path.strip() for path in str(mask).split(",") if path.strip()}
    paths = {"auditConfigs" if path == "audit_configs" else path for path in paths}
    unknown = paths - {"bindings", "etag", "auditConfigs"}
    if unknown:
        raise invalid_argument(f"Invalid update mask path '{sorted(unknown)[0]}'.", "update_mask")
    return paths


def _check_version(version: int, bindings: list[Binding]) -> None:
    if version not in (0, 1, 3):
        raise invalid_argument(f"Invalid policy version: {version}.", "policy.version")
    if version != 3 and any("condition" in b for b in bindings):
        raise invalid_argument(
            "Conditional role bindings require policy version 3; set policy.version to 3.",
            "policy.version",
        )


def _check_bindings(rt: Runtime, bindings: list[Binding], role_allowed: RoleCheck) -> None:
    for binding in bindings:
        role = binding["role"]
        if not role:
            raise invalid_argument("Role must be set in every binding.", "policy.bindings.role")
        if not _ROLE.match(role):
            raise invalid_argument(f"Role ({role}) does not exist in the resource's hierarchy.")
        if not role_allowed(role):
            raise invalid_argument(f"Role {role} is not supported for this resource.")
        for member in binding["members"]:
            check_member(rt, member)


def check_member(rt: Runtime, member: str) -> None:
    """Refuse a malformed principal, or a user-managed service account of a sandbox project
    that does not exist (or is not visible yet)."""
    if member in _SPECIAL or _PRINCIPAL.match(member):
        return
    kind, sep, value = member.partition(":")
    if not sep or not value:
        raise invalid_argument('Policy members must be of the form "<type>:<value>".')
    if kind in ("user", "group"):
        if not _EMAIL.match(value):
            raise invalid_argument(f"Invalid {kind} email ({value}).")
        if value.endswith("gserviceaccount.com"):
            raise invalid_argument(
                f"{member} is a service account: please set the type prefix to be "
                '"serviceAccount:".'
            )
    elif kind == "domain":
        if not _DOMAIN.match(value):
            raise invalid_argument(f"Invalid domain ({value}).")
    elif kind == "serviceAccount":
        _check_service_account(rt, value)
    elif kind != "deleted":
        raise invalid_argument(f'Unknown member type "{kind}" in {member}.')


def _check_service_account(rt: Runtime, value: str) -> None:
    if _WORKLOAD_MEMBER.match(value):
        return
    if not (_EMAIL.match(value) and value.endswith("gserviceaccount.com")):
        raise invalid_argument(f"Invalid service account ({value}).")
    parts = account_store.split_email(value)
    if parts is None or projects.find(rt, parts[1], include_creating=True) is None:
        return  # Google-managed agents and accounts outside the sandbox are not modelled
    if not account_store.service_account_visible(rt, value):
        raise invalid_argument(f"Service account {value} does not exist.")


def _account_uids(rt: Runtime, bindings: list[Binding]) -> dict[str, str]:
    """The unique ID of each sandbox service account bound: a binding holds that account, not
    a later one re-created with the same email."""
    uids: dict[str, str] = {}
    for binding in bindings:
        for member in binding["members"]:
            if not member.startswith("serviceAccount:"):
                continue
            doc = account_store.find(rt, member.removeprefix("serviceAccount:"))
            if doc is not None:
                uids[member] = str(doc["uniqueId"])
    return uids


def _live(rt: Runtime, stored: dict[str, Any]) -> dict[str, Any]:
    """The stored policy as Google shows it: a bound account deleted since (or re-created with
    a new unique ID) appears as `deleted:serviceAccount:EMAIL?uid=ID`."""
    uids: dict[str, str] = stored.get("uids") or {}
    if not uids:
        return stored

    def shown(member: str) -> str:
        uid = uids.get(member)
        doc = None if uid is None else account_store.find(rt, member.split(":", 1)[1])
        if uid is None or (doc is not None and doc["uniqueId"] == uid):
            return member
        return f"deleted:{member}?uid={uid}"

    bindings = [{**b, "members": sorted(map(shown, b["members"]))} for b in stored["bindings"]]
    return {**stored, "bindings": bindings}


def _stored(key: str, rt: Runtime, default: list[Binding]) -> dict[str, Any]:
    stored = rt.store.get(POLICIES, key)
    if stored is not None:
        return stored
    if not default:
        return {"bindings": [], "etag": EMPTY_ETAG}
    digest = hashlib.sha256(key.encode()).digest()[:8]
    return {"bindings": normalize(default), "etag": base64.b64encode(digest).decode()}


def _render(stored: dict[str, Any]) -> dict[str, Any]:
    bindings = stored["bindings"]
    if not bindings and stored["etag"] == EMPTY_ETAG:
        return {"etag": EMPTY_ETAG}
    body: dict[str, Any] = {"version": 3 if any("condition" in b for b in bindings) else 1}
    if bindings:
        body["bindings"] = bindings
    if stored.get("audit"):
        body["auditConfigs"] = stored["audit"]
    body["etag"] = stored["etag"]
    return body


def _new_etag(rt: Runtime) -> str:
    # Google's etags are 8 bytes (`BwYV…`); a sequence makes every write's etag new.
    value = 0x0706_0000_0000_0000 + rt.store.next_value("iam.policy-etag")
    return base64.b64encode(struct.pack(">Q", value)).decode()


def _etag_bytes(etag: Any) -> bytes:
    # Like Google's JSON parser, accept standard and URL-safe base64 (gcloud sends the latter).
    text = str(etag).replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise invalid_argument(
            f"Invalid value at 'policy.etag' (TYPE_BYTES), \"{etag}\"", "policy.etag"
        ) from None
