"""Cloud Asset Inventory v1 `searchAllIamPolicies` over the IAM policies the sandbox keeps: a
project's own and its service accounts'.

Scopes `projects/P` (ID or number) only; folders and organizations answer 400. An unknown
project answers 403, a project without the Cloud Asset API 403 SERVICE_DISABLED. `assetTypes`
takes the two modelled types or patterns matching them (none = both). `query` is empty or
`policy:TEXT`: bindings whose role or a member contains TEXT (case-insensitive, quotes and a
trailing `*` allowed), and a result holds only those bindings, as on Google. Only resources with
bindings appear; results are sorted by resource unless `orderBy` says otherwise. A result's
policy carries its bindings only (no etag or version, as Google's search answers).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.api import Call, Handlers
from sandbox.errors import invalid_argument, permission_denied
from sandbox.gcp.iam import account_store, policies, project_policies
from sandbox.gcp.resourcemanager.projects import Project, find, number_of, usable
from sandbox.gcp.serviceusage.services import require_enabled
from sandbox.listing import paginate
from sandbox.runtime import Runtime

HANDLERS = Handlers("cloudasset.v1")
SERVICE = "cloudasset.googleapis.com"
PERMISSION = "cloudasset.assets.searchAllIamPolicies"
PROJECT = "cloudresourcemanager.googleapis.com/Project"
SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
ASSET_TYPES = (PROJECT, SERVICE_ACCOUNT)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500  # larger sizes are capped, as on Google
_ORDER_FIELDS = ("resource", "assetType", "project")
_QUERY = re.compile(r'policy\s*:\s*(?:"([^"]*)"|([^\s"()]+))')

Result = dict[str, Any]


@HANDLERS("cloudasset.searchAllIamPolicies")
def search_all_iam_policies(call: Call) -> dict[str, Any]:
    project = _scope(call)
    types = _asset_types(list(call.arg("assetTypes") or []))
    text = _policy_text(str(call.arg("query") or ""))
    results = _results(call.rt, project, types, text)
    _order(results, str(call.arg("orderBy") or ""))
    size = call.arg("pageSize")
    size = DEFAULT_PAGE_SIZE if not size or size <= 0 else min(size, MAX_PAGE_SIZE)
    items, token = paginate(results, size, call.arg("pageToken"), default_size=MAX_PAGE_SIZE)
    body: dict[str, Any] = {"results": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


def _scope(call: Call) -> Project:
    """The ACTIVE project the scope names, with the Cloud Asset API enabled."""
    scope = call.params["scope"]
    kind, _, ref = scope.partition("/")
    if kind != "projects":
        raise invalid_argument(
            f"Invalid scope '{scope}': the sandbox searches projects only "
            "(projects/PROJECT_ID or projects/PROJECT_NUMBER).",
            "scope",
        )
    if find(call.rt, ref) is None:
        raise permission_denied(
            "The caller does not have permission",
            reason="IAM_PERMISSION_DENIED",
            domain="cloudasset.googleapis.com",
            metadata={"permission": PERMISSION, "resource": scope},
        )
    return require_enabled(call.rt, usable(call.rt, ref), SERVICE)


def _asset_types(requested: list[str]) -> tuple[str, ...]:
    if not requested:
        return ASSET_TYPES
    chosen: set[str] = set()
    for pattern in requested:
        try:
            found = {kind for kind in ASSET_TYPES if re.fullmatch(pattern, kind)}
        except re.error:
            found = set()
        if not found:
            raise invalid_argument(
                f"Asset type '{pattern}' is not supported: the sandbox searches the IAM "
                f"policies of {' and '.join(ASSET_TYPES)}.",
                "asset_types",
            )
        chosen |= found
    return tuple(kind for kind in ASSET_TYPES if kind in chosen)


def _policy_text(query: str) -> str | None:
    """The lower-cased TEXT of `policy:TEXT`, None for an empty query; else 400."""
    if not query.strip():
        return None
    found = _QUERY.fullmatch(query.strip())
    text = "" if found is None else (found.group(1) or found.group(2) or "").rstrip("*")
    if not text.strip():
        raise invalid_argument(
            f"Unsupported query '{query}': the sandbox supports an empty query or policy:TEXT.",
            "query",
        )
    return text.strip().lower()


def _results(
    rt: Runtime, project: Project, types: tuple[str, ...], text: str | None
) -> list[Result]:
    project_id, number = str(project["projectId"]), number_of(project)
    found: list[Result | None] = []
    if PROJECT in types:
        policy = policies.read(
            rt, policies.policy_key_of_project(project_id), project_policies.DEFAULT_POLICY
        )
        resource = f"//cloudresourcemanager.googleapis.com/projects/{number}"
        found.append(_result(project, resource, PROJECT, policy, text))
    if SERVICE_ACCOUNT in types:
        for account in account_store.in_project(rt, project_id):
            unique_id = str(account["uniqueId"])
            policy = policies.read(rt, policies.policy_key_of_account(unique_id))
            resource = f"//iam.googleapis.com/projects/{project_id}/serviceAccounts/{unique_id}"
            found.append(_result(project, resource, SERVICE_ACCOUNT, policy, text))
    return [result for result in found if result is not None]


def _result(
    project: Project, resource: str, asset_type: str, policy: dict[str, Any], text: str | None
) -> Result | None:
    """The IamPolicySearchResult of one resource, or None when no binding matches."""
    bindings = [b for b in policy.get("bindings", []) if text is None or _mentions(b, text)]
    if not bindings:
        return None
    result: Result = {
        "resource": resource,
        "assetType": asset_type,
        "project": f"projects/{number_of(project)}",
    }
    kind, _, ident = str(project.get("parent", "")).partition("/")
    if kind == "folders":
        result["folders"] = [f"folders/{ident}"]  # the sandbox knows the direct parent only
    elif kind == "organizations":
        result["organization"] = f"organizations/{ident}"
    result["policy"] = {"bindings": bindings}
    return result


def _mentions(binding: dict[str, Any], text: str) -> bool:
    values = [str(binding.get("role", "")), *map(str, binding.get("members", []))]
    return any(text in value.lower() for value in values)


def _order(results: list[Result], order_by: str) -> None:
    """Sort by resource, then by the `orderBy` fields (`field [DESC]`, comma-separated)."""
    keys: list[tuple[str, bool]] = []
    for part in order_by.split(","):
        words = part.split()
        if not words:
            continue
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if words[0] not in _ORDER_FIELDS or len(words) > 2 or direction not in ("ASC", "DESC"):
            raise invalid_argument(
                f"Invalid order_by '{part.strip()}': sortable fields are "
                f"{', '.join(_ORDER_FIELDS)}, optionally followed by DESC.",
                "order_by",
            )
        keys.append((words[0], direction == "DESC"))
    results.sort(key=_field("resource"))
    for field, descending in reversed(keys):  # stable sorts: the first key ends up primary
        results.sort(key=_field(field), reverse=descending)


def _field(name: str) -> Callable[[Result], str]:
    return lambda result: str(result.get(name, ""))
