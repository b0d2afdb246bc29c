"""Branch protection: the stored rule, its REST form, and what it forbids.

Enforced for direct updates (git push, contents API, refs API): lock_branch, restrictions,
allow_deletions, allow_force_pushes and required_pull_request_reviews (any direct update is
refused; the change must come through a pull request). For merges: the approvals count, outstanding
change requests, lock_branch and restrictions. Repository admins bypass all of it unless
enforce_admins. Required status checks are stored and reported but not enforced (the sandbox has
no status API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.store import Store

PROTECTION = "github.protection"
FLAGS = (
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "block_creations",
    "required_conversation_resolution",
    "lock_branch",
    "allow_fork_syncing",
    "required_signatures",
)
REQUIRED_KEYS = (
    "required_status_checks",
    "enforce_admins",
    "required_pull_request_reviews",
    "restrictions",
)
PULL_REQUEST_REQUIRED = "Changes must be made through a pull request."


def key(repo_key: str, branch: str) -> str:
    """Store key of a branch's rule."""
    return f"{repo_key}#{branch}"


def get_rule(store: Store, repo_key: str, branch: str) -> dict[str, Any] | None:
    """The rule protecting a branch, or None."""
    return store.get(PROTECTION, key(repo_key, branch))


def normalize(body: dict[str, Any], org_repo: bool) -> dict[str, Any]:
    """The stored rule for a PUT body; ValueError with GitHub's message when invalid."""
    for name in REQUIRED_KEYS:
        if name not in body:
            raise ValueError(f'Invalid request.\n\n"{name}" wasn\'t supplied.')
    rule: dict[str, Any] = {"enforce_admins": bool(body.get("enforce_admins"))}
    checks = body.get("required_status_checks")
    if checks is not None:
        listed = [
            {"context": c["context"], "app_id": c.get("app_id")} for c in checks.get("checks", [])
        ]
        contexts = list(checks.get("contexts") or [c["context"] for c in listed])
        rule["required_status_checks"] = {
            "strict": bool(checks.get("strict")),
            "contexts": contexts,
            "checks": listed or [{"context": c, "app_id": None} for c in contexts],
        }
    reviews = body.get("required_pull_request_reviews")
    if reviews is not None:
        count = int(reviews.get("required_approving_review_count", 1))
        if not 0 <= count <= 6:
            raise ValueError(
                "Invalid request.\n\n"
                f"{count} is not a member of [0, 1, 2, 3, 4, 5, 6]."  # GitHub's wording
            )
        bypass = reviews.get("bypass_pull_request_allowances") or {}
        rule["required_pull_request_reviews"] = {
            "dismiss_stale_reviews": bool(reviews.get("dismiss_stale_reviews")),
            "require_code_owner_reviews": bool(reviews.get("require_code_owner_reviews")),
            "required_approving_review_count": count,
            "require_last_push_approval": bool(reviews.get("require_last_push_approval")),
            "bypass_users": [str(u).lower() for u in bypass.get("users", [])],
        }
    restrictions = body.get("restrictions")
    if restrictions is not None:
        if not org_repo:
            raise ValueError("Only organization repositories can have users and team restrictions")
        rule["restrictions"] = {
            "users": [str(u).lower() for u in restrictions.get("users", [])],
            "teams": list(restrictions.get("teams", [])),
            "apps": list(restrictions.get("apps", [])),
        }
    for flag in FLAGS:
        rule[flag] = bool(body.get(flag))
    return rule


def render(rule: dict[str, Any], url: str, users: list[dict[str, Any]]) -> dict[str, Any]:
    """GitHub's JSON for a rule; url is the protection URL, users the restricted users' JSON."""
    out: dict[str, Any] = {"url": url}
    checks = rule.get("required_status_checks")
    if checks is not None:
        out["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": checks["strict"],
            "contexts": checks["contexts"],
            "contexts_url": f"{url}/required_status_checks/contexts",
            "checks": checks["checks"],
        }
    reviews = rule.get("required_pull_request_reviews")
    if reviews is not None:
        out["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            **{k: v for k, v in reviews.items() if k != "bypass_users"},
        }
    out["required_signatures"] = {
        "url": f"{url}/required_signatures",
        "enabled": rule["required_signatures"],
    }
    out["enforce_admins"] = {"url": f"{url}/enforce_admins", "enabled": rule["enforce_admins"]}
    restrictions = rule.get("restrictions")
    if restrictions is not None:
        out["restrictions"] = {
            "url": f"{url}/restrictions",
            "users_url": f"{url}/restrictions/users",
            "teams_url": f"{url}/restrictions/teams",
            "apps_url": f"{url}/restrictions/apps",
            "users": users,
            "teams": [],
            "apps": [],
        }
    for flag in FLAGS:
        if flag != "required_signatures":
            out[flag] = {"enabled": rule[flag]}
    return out


@dataclass(frozen=True)
class Update:
    """A direct change to a branch: new None deletes, fast_forward None when not yet known."""

    login: str
    is_admin: bool
    old: str | None
    new: str | None
    fast_forward: bool | None = None


def exempt(rule: dict[str, Any], is_admin: bool) -> bool:
    """Admins bypass a rule unless it enforces admins."""
    return is_admin and not rule["enforce_admins"]


def violations(rule: dict[str, Any], update: Update) -> list[str]:
    """Why a direct update is refused (GitHub's messages); empty when allowed."""
    if exempt(rule, update.is_admin):
        return []
    if rule["lock_branch"]:
        return ["Cannot update this protected branch: the branch is locked."]
    found = []
    restrictions = rule.get("restrictions")
    if restrictions is not None and update.login.lower() not in restrictions["users"]:
        found.append("You're not authorized to push to this branch.")
    if update.new is None and update.old is not None and not rule["allow_deletions"]:
        found.append("Cannot delete this protected branch")
    if update.fast_forward is False and not rule["allow_force_pushes"]:
        found.append("Cannot force-push to this branch")
    reviews = rule.get("required_pull_request_reviews")
    if reviews is not None and update.login.lower() not in reviews["bypass_users"]:
        found.append(PULL_REQUEST_REQUIRED)
    return found


def needs_fast_forward_check(rule: dict[str, Any], update: Update) -> bool:
    """True when only the fast-forward test is left to decide an update."""
    return (
        not exempt(rule, update.is_admin)
        and not rule["allow_force_pushes"]
        and update.old is not None
        and update.new is not None
        and update.fast_forward is None
    )


def merge_blockers(
    rule: dict[str, Any], merger: str, is_admin: bool, approvals: int, changes_requested: bool
) -> list[str]:
    """Why a pull request cannot be merged into the protected branch; empty when it can."""
    if exempt(rule, is_admin):
        return []
    if rule["lock_branch"]:
        return ["Cannot update this protected branch: the branch is locked."]
    restrictions = rule.get("restrictions")
    if restrictions is not None and merger.lower() not in restrictions["users"]:
        return ["You're not authorized to push to this branch."]
    reviews = rule.get("required_pull_request_reviews")
    if reviews is None or merger.lower() in reviews["bypass_users"]:
        return []
    if changes_requested:
        return ["Changes have been requested."]
    needed = reviews["required_approving_review_count"]
    if approvals < needed:
        noun = "approving review is" if needed == 1 else "approving reviews are"
        return [f"At least {needed} {noun} required by reviewers with write access."]
    return []
