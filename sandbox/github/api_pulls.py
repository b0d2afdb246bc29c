"""REST handlers: pull requests (open, list, edit, files, merge)."""

from __future__ import annotations

from typing import Any

from sandbox.github import pulls
from sandbox.github.api_repos import owner_json, render_repo
from sandbox.github.pullmerge import merge_pull, merge_state, pull_sha
from sandbox.github.rest import (
    Ctx,
    GitHubError,
    Reply,
    RepoRef,
    Route,
    invalid,
    not_found,
    paginate,
    route,
)
from sandbox.github.shapes import account_json, iso, node_id

STATUS = {"A": "added", "M": "modified", "D": "removed", "T": "changed"}


def user_ref(ctx: Ctx, login: str | None, number: int | None) -> dict[str, Any] | None:
    """The short form of a user, or None."""
    if login is None or number is None:
        return None
    return account_json(ctx.api, ctx.web, login, number, "User")


def pull_json(ctx: Ctx, repo: RepoRef, doc: dict[str, Any], full: bool) -> dict[str, Any]:
    """A pull request; `full` adds what only the single-PR endpoint has (mergeable…)."""
    number = int(doc["number"])
    url = f"{repo.url}/pulls/{number}"
    owner = owner_json(ctx, repo.doc)
    repo_body = render_repo(ctx, repo.doc)
    parts = {}
    for side in ("head", "base"):
        branch = doc[side]
        parts[side] = {
            "label": f"{repo.doc['owner']}:{branch}",
            "ref": branch,
            "sha": pull_sha(repo, doc, side),
            "user": owner,
            "repo": repo_body,
        }
    body: dict[str, Any] = {
        "url": url,
        "id": doc["id"],
        "node_id": node_id("PR", int(doc["id"])),
        "html_url": f"{repo.html}/pull/{number}",
        "diff_url": f"{repo.html}/pull/{number}.diff",
        "patch_url": f"{repo.html}/pull/{number}.patch",
        "issue_url": f"{repo.url}/issues/{number}",
        "commits_url": f"{url}/commits",
        "review_comments_url": f"{url}/comments",
        "review_comment_url": f"{repo.url}/pulls/comments{{/number}}",
        "comments_url": f"{repo.url}/issues/{number}/comments",
        "statuses_url": f"{repo.url}/statuses/{parts['head']['sha']}",
        "number": number,
        "state": doc["state"],
        "locked": False,
        "title": doc["title"],
        "user": user_ref(ctx, doc["user"], doc["user_id"]),
        "body": doc.get("body"),
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(doc["created"]),
        "updated_at": iso(doc["updated"]),
        "closed_at": iso(doc["closed"]) if doc["closed"] else None,
        "merged_at": iso(doc["merged"]) if doc["merged"] else None,
        "merge_commit_sha": doc["merge_commit_sha"],
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": parts["head"],
        "base": parts["base"],
        "_links": {
            "self": {"href": url},
            "html": {"href": f"{repo.html}/pull/{number}"},
            "issue": {"href": f"{repo.url}/issues/{number}"},
            "comments": {"href": f"{repo.url}/issues/{number}/comments"},
            "review_comments": {"href": f"{url}/comments"},
            "commits": {"href": f"{url}/commits"},
            "statuses": {"href": f"{repo.url}/statuses/{parts['head']['sha']}"},
        },
        "author_association": "MEMBER",
        "auto_merge": None,
        "draft": bool(doc.get("draft")),
    }
    if full:
        mergeable, state = merge_state(ctx, repo, doc)
        body.update(
            merged=doc["merged"] is not None,
            mergeable=mergeable,
            rebaseable=mergeable,
            mergeable_state=state,
            merged_by=user_ref(ctx, doc["merged_by"], doc.get("merged_by_id")),
            comments=0,
            review_comments=0,
            maintainer_can_modify=bool(doc.get("maintainer_can_modify")),
            commits=0,
            additions=0,
            deletions=0,
            changed_files=len(_changes(repo, doc)),
        )
    return body


def find_pull(ctx: Ctx, repo: RepoRef) -> dict[str, Any]:
    """The pull request numbered in the path; 404 when there is none."""
    raw = ctx.params["number"]
    doc = pulls.get_pull(ctx.svc.store, repo.key, int(raw)) if raw.isdigit() else None
    if doc is None:
        raise not_found()
    return doc


def _branch(repo: RepoRef, value: Any, field: str) -> str:
    name = str(value or "")
    owner, sep, rest = name.partition(":")
    if sep:
        if owner.lower() != str(repo.doc["owner"]).lower():
            raise invalid("PullRequest", field)
        name = rest
    if not name or repo.git.resolve(f"refs/heads/{name}") is None:
        raise invalid("PullRequest", field)
    return name


def create_pull(ctx: Ctx) -> Reply:
    """POST /repos/{owner}/{repo}/pulls (head and base are branches of the repository)."""
    repo = ctx.repo()
    body = ctx.body()
    if not body.get("title"):
        raise invalid("PullRequest", "title", "missing_field")
    head = _branch(repo, body.get("head"), "head")
    base = _branch(repo, body.get("base"), "base")
    for other in pulls.list_pulls(ctx.svc.store, repo.key):
        if other["state"] == "open" and (other["head"], other["base"]) == (head, base):
            message = f"A pull request already exists for {repo.doc['owner']}:{head}."
            raise invalid("PullRequest", "head", "custom", message=message)
    head_sha = repo.git.resolve(f"refs/heads/{head}")
    base_sha = repo.git.resolve(f"refs/heads/{base}")
    assert head_sha is not None and base_sha is not None
    if repo.git.is_ancestor(head_sha, base_sha):
        raise invalid(
            "PullRequest", "head", "custom", message=f"No commits between {base} and {head}"
        )
    fields = {
        "title": str(body["title"]),
        "body": body.get("body"),
        "head": head,
        "base": base,
        "head_sha": head_sha,
        "base_sha": base_sha,
        "draft": bool(body.get("draft")),
        "maintainer_can_modify": bool(body.get("maintainer_can_modify")),
        "user": ctx.user.login.lower(),
        "user_id": ctx.user.id,
    }
    doc = pulls.create_pull(ctx.svc.store, repo.key, fields, ctx.svc.now())
    return Reply(pull_json(ctx, repo, doc, full=True), 201)


def list_pulls(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/pulls (`state`, `head`, `base`)."""
    repo = ctx.repo()
    state = ctx.arg("state", "open")
    head = ctx.arg("head").partition(":")[2] or ctx.arg("head")
    found = [
        doc
        for doc in pulls.list_pulls(ctx.svc.store, repo.key)
        if state in ("all", doc["state"])
        and (not head or doc["head"] == head)
        and (not ctx.arg("base") or doc["base"] == ctx.arg("base"))
    ]
    return paginate(ctx, [pull_json(ctx, repo, doc, full=False) for doc in found])


def get_pull(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{number}."""
    repo = ctx.repo()
    return Reply(pull_json(ctx, repo, find_pull(ctx, repo), full=True))


def edit_pull(ctx: Ctx) -> Reply:
    """PATCH /repos/{owner}/{repo}/pulls/{number} (title, body, state, base)."""
    repo = ctx.repo()
    doc = find_pull(ctx, repo)
    if doc["user"] != ctx.user.login.lower() and repo.permission == "read":
        raise not_found()
    body = ctx.body()
    for key in ("title", "body"):
        if key in body:
            doc[key] = body[key]
    if "base" in body:
        doc["base"] = _branch(repo, body["base"], "base")
    state = body.get("state")
    if state in ("open", "closed") and state != doc["state"]:
        if doc["merged"]:
            raise GitHubError(422, "Cannot change the state of a merged pull request.")
        doc["state"] = state
        doc["closed"] = ctx.svc.now() if state == "closed" else None
        doc["head_sha"] = pull_sha(repo, doc, "head")
    doc["updated"] = ctx.svc.now()
    pulls.save_pull(ctx.svc.store, repo.key, doc)
    return Reply(pull_json(ctx, repo, doc, full=True))


def _changes(repo: RepoRef, doc: dict[str, Any]) -> list[tuple[str, str]]:
    head, base = pull_sha(repo, doc, "head"), pull_sha(repo, doc, "base")
    fork = repo.git.merge_base(base, head) if doc["merged"] is None else base
    if fork is None:
        return []
    return repo.git.changed_paths(f"{fork}^{{tree}}", f"{head}^{{tree}}")


def list_files(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{number}/files."""
    repo = ctx.repo()
    doc = find_pull(ctx, repo)
    files = [
        {
            "filename": path,
            "status": STATUS.get(status[:1], "modified"),
            "additions": 0,
            "deletions": 0,
            "changes": 0,
            "contents_url": f"{repo.url}/contents/{path}?ref={pull_sha(repo, doc, 'head')}",
        }
        for status, path in _changes(repo, doc)
    ]
    return paginate(ctx, files)


def merge(ctx: Ctx) -> Reply:
    """PUT /repos/{owner}/{repo}/pulls/{number}/merge."""
    repo = ctx.repo("write")
    return Reply(merge_pull(ctx, repo, find_pull(ctx, repo), ctx.body()))


def is_merged(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{number}/merge: 204 when merged, else 404."""
    repo = ctx.repo()
    if find_pull(ctx, repo)["merged"] is None:
        raise not_found()
    return Reply(None, 204)


ROUTES: list[Route] = [
    route("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    route("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{number}", get_pull),
    route("PATCH", "/repos/{owner}/{repo}/pulls/{number}", edit_pull),
    route("GET", "/repos/{owner}/{repo}/pulls/{number}/files", list_files),
    route("GET", "/repos/{owner}/{repo}/pulls/{number}/merge", is_merged),
    route("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge", merge),
]
