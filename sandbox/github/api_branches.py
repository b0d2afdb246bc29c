"""REST handlers: branches and their protection."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sandbox.github import protection
from sandbox.github.accounts import get_user
from sandbox.github.git_objects import parse_commit
from sandbox.github.gitshapes import commit_json
from sandbox.github.rest import Ctx, GitHubError, Reply, RepoRef, Route, paginate, route
from sandbox.github.shapes import account_json

HEADS = "refs/heads/"
PROTECTION_DOCS = "https://docs.github.com/rest/branches/branch-protection"


def _summary(rule: dict[str, Any] | None) -> dict[str, Any]:
    checks = (rule or {}).get("required_status_checks")
    level = "off"
    if checks is not None:
        level = "everyone" if rule and rule["enforce_admins"] else "non_admins"
    return {
        "enabled": rule is not None,
        "required_status_checks": {
            "enforcement_level": level,
            "contexts": checks["contexts"] if checks else [],
            "checks": checks["checks"] if checks else [],
        },
    }


def _rules(ctx: Ctx, repo: RepoRef) -> dict[str, dict[str, Any]]:
    prefix = f"{repo.key}#"
    items = ctx.svc.store.items(protection.PROTECTION, prefix)
    return {key[len(prefix) :]: rule for key, rule in items}


def list_branches(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/branches (`protected=true` filters)."""
    repo = ctx.repo()
    rules = _rules(ctx, repo)
    branches = []
    for ref, sha, _ in repo.git.refs(HEADS):
        name = ref[len(HEADS) :]
        if ctx.arg("protected") == "true" and name not in rules:
            continue
        branches.append(
            {
                "name": name,
                "commit": {"sha": sha, "url": f"{repo.url}/commits/{sha}"},
                "protected": name in rules,
                "protection": _summary(rules.get(name)),
                "protection_url": f"{repo.url}/branches/{quote(name)}/protection",
            }
        )
    return paginate(ctx, branches)


def _branch_sha(repo: RepoRef, name: str) -> str:
    sha = repo.git.resolve(f"{HEADS}{name}")
    if sha is None:
        raise GitHubError(404, "Branch not found")
    return sha


def get_branch(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/branches/{branch}."""
    repo = ctx.repo()
    name = ctx.params["branch"]
    sha = _branch_sha(repo, name)
    found = repo.git.read_one(sha)
    assert found is not None
    rule = protection.get_rule(ctx.svc.store, repo.key, name)
    body: dict[str, Any] = {
        "name": name,
        "commit": commit_json(repo.url, repo.html, sha, parse_commit(found.body)),
        "_links": {
            "self": f"{repo.url}/branches/{quote(name)}",
            "html": f"{repo.html}/tree/{quote(name)}",
        },
        "protected": rule is not None,
        "protection": _summary(rule),
        "protection_url": f"{repo.url}/branches/{quote(name)}/protection",
    }
    reviews = (rule or {}).get("required_pull_request_reviews")
    if reviews is not None:
        body["required_approving_review_count"] = reviews["required_approving_review_count"]
    return Reply(body)


def _render(ctx: Ctx, repo: RepoRef, name: str, rule: dict[str, Any]) -> dict[str, Any]:
    users = []
    for login in (rule.get("restrictions") or {}).get("users", []):
        user = get_user(ctx.svc.store, login)
        if user is not None:
            users.append(account_json(ctx.api, ctx.web, user.login, user.id, "User"))
    url = f"{repo.url}/branches/{quote(name)}/protection"
    return protection.render(rule, url, users)


def get_protection(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/branches/{branch}/protection."""
    repo = ctx.repo("admin")
    name = ctx.params["branch"]
    _branch_sha(repo, name)
    rule = protection.get_rule(ctx.svc.store, repo.key, name)
    if rule is None:
        raise GitHubError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    return Reply(_render(ctx, repo, name, rule))


def put_protection(ctx: Ctx) -> Reply:
    """PUT /repos/{owner}/{repo}/branches/{branch}/protection (replaces the whole rule)."""
    repo = ctx.repo("admin")
    name = ctx.params["branch"]
    _branch_sha(repo, name)
    try:
        rule = protection.normalize(ctx.body(), repo.doc["owner_type"] == "Organization")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise GitHubError(422, str(exc), documentation_url=PROTECTION_DOCS) from None
    ctx.svc.store.put(protection.PROTECTION, protection.key(repo.key, name), rule)
    return Reply(_render(ctx, repo, name, rule))


def delete_protection(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}/branches/{branch}/protection."""
    repo = ctx.repo("admin")
    name = ctx.params["branch"]
    _branch_sha(repo, name)
    if not ctx.svc.store.delete(protection.PROTECTION, protection.key(repo.key, name)):
        raise GitHubError(404, "Branch not protected", documentation_url=PROTECTION_DOCS)
    return Reply(None, 204)


ROUTES: list[Route] = [
    route("GET", "/repos/{owner}/{repo}/branches", list_branches),
    route("GET", "/repos/{owner}/{repo}/branches/{branch+}/protection", get_protection),
    route("PUT", "/repos/{owner}/{repo}/branches/{branch+}/protection", put_protection),
    route("DELETE", "/repos/{owner}/{repo}/branches/{branch+}/protection", delete_protection),
    route("GET", "/repos/{owner}/{repo}/branches/{branch+}", get_branch),
]
