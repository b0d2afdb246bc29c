"""GitHub's JSON for users, organizations and repositories; every URL from the request's host."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sandbox.github.accounts import Account


def iso(seconds: float) -> str:
    """GitHub's timestamp form: `2024-05-01T12:00:00Z`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, number: int) -> str:
    """An opaque GraphQL node id."""
    return base64.b64encode(f"0:{kind}{number}".encode()).decode().rstrip("=")


def account_json(api: str, web: str, login: str, number: int, kind: str) -> dict[str, Any]:
    """The short form of a user or organization (as `owner`, `user`, `merged_by`…)."""
    if kind == "Organization":
        url = f"{api}/orgs/{login}"
        return {
            "login": login,
            "id": number,
            "node_id": node_id("O", number),
            "url": url,
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events",
            "hooks_url": f"{url}/hooks",
            "issues_url": f"{url}/issues",
            "members_url": f"{url}/members{{/member}}",
            "public_members_url": f"{url}/public_members{{/member}}",
            "avatar_url": f"{web}/avatars/{login}",
            "description": "",
            "html_url": f"{web}/{login}",
            "type": "Organization",
            "site_admin": False,
        }
    url = f"{api}/users/{login}"
    return {
        "login": login,
        "id": number,
        "node_id": node_id("U", number),
        "avatar_url": f"{web}/avatars/{login}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{web}/{login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": "User",
        "site_admin": False,
    }


def user_json(api: str, web: str, user: Account, repos: int = 0) -> dict[str, Any]:
    """The full form of a user (`GET /user`, `GET /users/{u}`)."""
    return {
        **account_json(api, web, user.login, user.id, "User"),
        "site_admin": user.site_admin,
        "name": user.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": user.email,
        "hireable": None,
        "bio": None,
        "public_repos": repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(user.created),
        "updated_at": iso(user.created),
    }


def org_json(api: str, web: str, org: dict[str, Any], repos: int = 0) -> dict[str, Any]:
    """The full form of an organization (`GET /orgs/{o}`)."""
    return {
        **account_json(api, web, org["login"], int(org["id"]), "Organization"),
        "name": org["login"],
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(float(org.get("created", 0.0))),
        "updated_at": iso(float(org.get("created", 0.0))),
        "archived_at": None,
    }


def permissions_json(level: str | None) -> dict[str, bool]:
    """The `permissions` object of a repository for the caller's level."""
    admin, write = level == "admin", level in ("admin", "write")
    return {"admin": admin, "maintain": admin, "push": write, "triage": write, "pull": True}


def repo_json(
    api: str, web: str, doc: dict[str, Any], owner: dict[str, Any], level: str | None
) -> dict[str, Any]:
    """The full form of a repository; owner is the owner's short form."""
    full = f"{doc['owner']}/{doc['name']}"
    url = f"{api}/repos/{full}"
    templates = {
        f"{name}_url": f"{url}/{name}{suffix}"
        for name, suffix in (
            ("assignees", "{/user}"),
            ("branches", "{/branch}"),
            ("collaborators", "{/collaborator}"),
            ("comments", "{/number}"),
            ("commits", "{/sha}"),
            ("contents", "/{+path}"),
            ("contributors", ""),
            ("deployments", ""),
            ("downloads", ""),
            ("events", ""),
            ("forks", ""),
            ("hooks", ""),
            ("issues", "{/number}"),
            ("keys", "{/key_id}"),
            ("labels", "{/name}"),
            ("languages", ""),
            ("merges", ""),
            ("milestones", "{/number}"),
            ("pulls", "{/number}"),
            ("releases", "{/id}"),
            ("stargazers", ""),
            ("subscribers", ""),
            ("subscription", ""),
            ("tags", ""),
            ("teams", ""),
        )
    }
    body: dict[str, Any] = {
        "id": doc["id"],
        "node_id": node_id("R", int(doc["id"])),
        "name": doc["name"],
        "full_name": full,
        "private": doc["private"],
        "owner": owner,
        "html_url": f"{web}/{full}",
        "description": doc["description"] or None,
        "fork": False,
        "url": url,
        **templates,
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "git_tags_url": f"{url}/git/tags{{/sha}}",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}",
        "statuses_url": f"{url}/statuses/{{sha}}",
        "compare_url": f"{url}/compare/{{base}}...{{head}}",
        "archive_url": f"{url}/{{archive_format}}{{/ref}}",
        "created_at": iso(doc["created"]),
        "updated_at": iso(doc["updated"]),
        "pushed_at": iso(doc["pushed"]),
        "git_url": f"{web}/{full}.git".replace("http", "git", 1),
        "ssh_url": f"git@{web.split('://', 1)[1].split(':', maxsplit=1)[0]}:{full}.git",
        "clone_url": f"{web}/{full}.git",
        "svn_url": f"{web}/{full}",
        "homepage": doc["homepage"] or None,
        "size": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "forks_count": 0,
        "open_issues_count": 0,
        "license": None,
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private" if doc["private"] else "public",
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "default_branch": doc["default_branch"],
        "permissions": permissions_json(level),
        "network_count": 0,
        "subscribers_count": 0,
    }
    for key in (
        "has_issues",
        "has_projects",
        "has_wiki",
        "has_discussions",
        "is_template",
        "archived",
        "allow_squash_merge",
        "allow_merge_commit",
        "allow_rebase_merge",
        "allow_auto_merge",
        "delete_branch_on_merge",
    ):
        body[key] = doc[key]
    body.update(has_downloads=True, has_pages=False, disabled=False, mirror_url=None)
    if doc["owner_type"] == "Organization":
        body["organization"] = owner
    return body
