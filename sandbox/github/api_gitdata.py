"""REST handlers: the git data API (blobs, trees, commits) and the repository's commits."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from sandbox.github.branchwrites import caller, person_from, write_commit
from sandbox.github.git_objects import MODES, CommitData, git_mode, parse_commit
from sandbox.github.gitshapes import blob_json, commit_json, git_commit_json, tree_json
from sandbox.github.rest import (
    Ctx,
    GitHubError,
    Reply,
    RepoRef,
    Route,
    link_header,
    not_found,
    page_params,
    route,
)
from sandbox.github.treeedit import apply_edits, clean_path

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git knows it without storing it
SHA = re.compile(r"^[0-9a-f]{40}$")
STATUS = {"A": "added", "M": "modified", "D": "removed", "T": "changed"}


def _kind_of(repo: RepoRef, sha: Any) -> str | None:
    if not isinstance(sha, str) or not SHA.match(sha):
        return None
    found = repo.git.read_one(sha)
    return None if found is None else found.kind


def create_blob(ctx: Ctx) -> Reply:
    """POST /repos/{owner}/{repo}/git/blobs."""
    repo = ctx.repo("write")
    body = ctx.body()
    content = body.get("content")
    if not isinstance(content, str):
        raise GitHubError(422, 'Invalid request.\n\n"content" wasn\'t supplied.')
    encoding = body.get("encoding", "utf-8")
    try:
        data = base64.b64decode(content) if encoding == "base64" else content.encode()
    except binascii.Error:
        raise GitHubError(422, "Invalid request.\n\ncontent is not valid Base64.") from None
    sha = repo.git.write("blob", data)
    return Reply({"url": f"{repo.url}/git/blobs/{sha}", "sha": sha}, 201)


def get_blob(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/blobs/{sha}."""
    repo = ctx.repo()
    found = repo.git.read_one(ctx.params["sha"]) if SHA.match(ctx.params["sha"]) else None
    if found is None or found.kind != "blob":
        raise not_found()
    return Reply(blob_json(repo.url, found.sha, found.body))


def _edit(repo: RepoRef, item: Any) -> tuple[str, tuple[str, str] | None]:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise GitHubError(422, "Invalid tree info")
    try:
        path = clean_path(item["path"])
    except ValueError:
        raise GitHubError(422, f"tree.path {item['path']!r} is invalid") from None
    mode = git_mode(str(item.get("mode", "100644")))
    if mode not in MODES:
        raise GitHubError(422, f"tree.mode {item.get('mode')!r} is invalid")
    if "content" in item:
        return path, (mode, repo.git.write("blob", str(item["content"]).encode()))
    sha = item.get("sha")
    if sha is None:
        return path, None
    kind = _kind_of(repo, sha) if MODES[mode] != "commit" else "commit"
    if kind != MODES[mode]:
        raise GitHubError(422, f"tree.sha {sha} is not a valid {MODES[mode]}")
    return path, (mode, str(sha))


def create_tree(ctx: Ctx) -> Reply:
    """POST /repos/{owner}/{repo}/git/trees (`base_tree`; entries with content, sha or null)."""
    repo = ctx.repo("write")
    body = ctx.body()
    items = body.get("tree")
    if not isinstance(items, list):
        raise GitHubError(422, 'Invalid request.\n\n"tree" wasn\'t supplied.')
    base = body.get("base_tree")
    if base is not None and _kind_of(repo, base) != "tree":
        raise GitHubError(422, "base_tree is not a valid tree oid")
    edits = dict(_edit(repo, item) for item in items)
    sha = apply_edits(repo.git, base, edits)
    return Reply(tree_json(repo.url, sha, repo.git.ls_tree(sha)), 201)


def get_tree(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/trees/{sha} (a tree, commit or branch; `recursive`)."""
    repo = ctx.repo()
    name = ctx.params["sha"]
    found = repo.git.read_one(f"{name}^{{tree}}") if ":" not in name else None
    if found is None:
        raise not_found()
    recursive = ctx.arg("recursive") not in ("", "0", "false")
    return Reply(tree_json(repo.url, found.sha, repo.git.ls_tree(found.sha, recursive)))


def create_commit(ctx: Ctx) -> Reply:
    """POST /repos/{owner}/{repo}/git/commits."""
    repo = ctx.repo("write")
    body = ctx.body()
    message = body.get("message")
    if not isinstance(message, str):
        raise GitHubError(422, 'Invalid request.\n\n"message" wasn\'t supplied.')
    tree = body.get("tree")
    if _kind_of(repo, tree) != "tree":
        raise GitHubError(422, "Tree SHA does not exist")
    parents = body.get("parents", [])
    if not isinstance(parents, list) or any(_kind_of(repo, p) != "commit" for p in parents):
        raise GitHubError(422, "Parent SHA does not exist or is not a commit object")
    author = person_from(ctx, body.get("author"), caller(ctx))
    committer = person_from(ctx, body.get("committer"), author)
    commit = CommitData(str(tree), tuple(parents), author, committer, message)
    sha = write_commit(repo, commit)
    return Reply(git_commit_json(repo.url, repo.html, sha, commit), 201)


def get_git_commit(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/commits/{sha}."""
    repo = ctx.repo()
    found = repo.git.read_one(ctx.params["sha"]) if SHA.match(ctx.params["sha"]) else None
    if found is None or found.kind != "commit":
        raise not_found()
    return Reply(git_commit_json(repo.url, repo.html, found.sha, parse_commit(found.body)))


def empty_repository() -> GitHubError:
    """409 as GitHub answers for reads of a repository without commits."""
    return GitHubError(409, "Git Repository is empty.")


def list_commits(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/commits (`sha`, `path`, pagination)."""
    repo = ctx.repo()
    start = ctx.arg("sha") or repo.doc["default_branch"]
    sha = repo.git.resolve(start)
    if sha is None:
        if not repo.git.refs():
            raise empty_repository()
        raise GitHubError(404, f"No commit found for SHA: {start}")
    per_page, page = page_params(ctx)
    shas = repo.git.history(sha, ctx.arg("path").strip("/"), per_page + 1, (page - 1) * per_page)
    found = repo.git.read(shas[:per_page])
    commits = [
        commit_json(repo.url, repo.html, obj.sha, parse_commit(obj.body))
        for obj in found
        if obj is not None
    ]
    return Reply(commits, headers=link_header(ctx, page, None, len(shas) > per_page))


def get_commit(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/commits/{ref}, with the files it changed."""
    repo = ctx.repo()
    sha = repo.git.resolve(ctx.params["ref"])
    found = repo.git.read_one(sha) if sha else None
    if found is None:
        raise GitHubError(422, f"No commit found for SHA: {ctx.params['ref']}")
    commit = parse_commit(found.body)
    body = commit_json(repo.url, repo.html, found.sha, commit)
    base = f"{commit.parents[0]}^{{tree}}" if commit.parents else EMPTY_TREE
    changes = repo.git.changed_paths(base, commit.tree)
    body["files"] = [
        {"filename": path, "status": STATUS.get(status[:1], "modified")} for status, path in changes
    ]
    return Reply(body)


ROUTES: list[Route] = [
    route("POST", "/repos/{owner}/{repo}/git/blobs", create_blob),
    route("GET", "/repos/{owner}/{repo}/git/blobs/{sha}", get_blob),
    route("POST", "/repos/{owner}/{repo}/git/trees", create_tree),
    route("GET", "/repos/{owner}/{repo}/git/trees/{sha+}", get_tree),
    route("POST", "/repos/{owner}/{repo}/git/commits", create_commit),
    route("GET", "/repos/{owner}/{repo}/git/commits/{sha}", get_git_commit),
    route("GET", "/repos/{owner}/{repo}/commits", list_commits),
    route("GET", "/repos/{owner}/{repo}/commits/{ref+}", get_commit),
]
