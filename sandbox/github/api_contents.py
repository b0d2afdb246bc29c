"""REST handlers: the contents API (read a file or directory, create, update, delete a file)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from typing import Any

from sandbox.github.api_gitdata import empty_repository
from sandbox.github.branchwrites import caller, guard, move, person_from, write_commit
from sandbox.github.git_objects import TREE_MODE, CommitData, parse_tree
from sandbox.github.gitrepo import ListedEntry
from sandbox.github.gitshapes import content_json, git_commit_json, wrapped_base64
from sandbox.github.rest import Ctx, GitHubError, Reply, RepoRef, Route, not_found, route
from sandbox.github.treeedit import apply_edits, clean_path

UPDATE_REFUSED = "Could not update file: "
DELETE_REFUSED = "Could not delete file: "
CONTENTS_DOCS = "https://docs.github.com/rest/repos/contents"


def _path(ctx: Ctx) -> str:
    raw = ctx.params.get("path", "").strip("/")
    if not raw:
        return ""
    try:
        return clean_path(raw)
    except ValueError:
        raise not_found() from None


def get_contents(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/contents/{path}?ref=: a file (base64) or a directory listing."""
    repo = ctx.repo()
    ref = ctx.arg("ref") or repo.doc["default_branch"]
    commit = repo.git.resolve(ref)
    if commit is None:
        if not repo.git.refs():
            raise empty_repository()
        raise GitHubError(
            404, f"No commit found for the ref {ref}", documentation_url=CONTENTS_DOCS
        )
    path = _path(ctx)
    found = repo.git.read_one(f"{commit}:{path}")
    if found is None:
        raise not_found()
    if found.kind == "blob":
        entry = ListedEntry("100644", "blob", found.sha, len(found.body), path)
        body = content_json(repo.url, repo.html, ref, entry)
        body.update(content=wrapped_base64(found.body), encoding="base64")
        return Reply(body)
    listing = [
        content_json(repo.url, repo.html, ref, replace(entry, path=f"{path}/{entry.path}"))
        if path
        else content_json(repo.url, repo.html, ref, entry)
        for entry in repo.git.ls_tree(found.sha)
    ]
    return Reply(listing)


def _branch(ctx: Ctx, repo: RepoRef, body: dict[str, Any]) -> tuple[str, str | None]:
    branch = body.get("branch") or repo.doc["default_branch"]
    head = repo.git.resolve(f"refs/heads/{branch}")
    if head is None and (branch != repo.doc["default_branch"] or repo.git.refs()):
        raise GitHubError(404, f"Branch {branch} not found", documentation_url=CONTENTS_DOCS)
    return str(branch), head


def _current(repo: RepoRef, head: str | None, path: str) -> tuple[str, str] | None:
    """(mode, sha) of the file at path, or None."""
    if head is None:
        return None
    parent, _, name = path.rpartition("/")
    found = repo.git.read_one(f"{head}:{parent}" if parent else f"{head}^{{tree}}")
    if found is None or found.kind != "tree":
        return None
    entry = parse_tree(found.body).get(name)
    return None if entry is None else (entry.mode, entry.sha)


def _check_sha(path: str, current: tuple[str, str] | None, sha: Any, deleting: bool) -> None:
    """GitHub's checks of the blob `sha` a client sends to update or delete a file."""
    if current is not None and current[0] == TREE_MODE:
        raise GitHubError(422, f"Invalid request.\n\n{path} is a directory.")
    if current is None:
        if deleting:
            raise not_found()
        if sha:
            raise GitHubError(409, f"{path} does not match {sha}", documentation_url=CONTENTS_DOCS)
        return
    if not sha:
        raise GitHubError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    if sha != current[1]:
        raise GitHubError(409, f"{path} does not match {sha}", documentation_url=CONTENTS_DOCS)


def _commit(
    ctx: Ctx, repo: RepoRef, body: dict[str, Any], head: str | None, tree: str
) -> tuple[str, CommitData]:
    message = body.get("message")
    if not isinstance(message, str) or not message:
        raise GitHubError(422, 'Invalid request.\n\n"message" wasn\'t supplied.')
    committer = person_from(ctx, body.get("committer"), caller(ctx))
    author = person_from(ctx, body.get("author"), committer)
    commit = CommitData(tree, (head,) if head else (), author, committer, message)
    return write_commit(repo, commit), commit


def put_contents(ctx: Ctx) -> Reply:
    """PUT /repos/{owner}/{repo}/contents/{path}: create, or update with the current blob `sha`."""
    repo = ctx.repo("write")
    body = ctx.body()
    path = _path(ctx)
    if not path:
        raise not_found()
    if not isinstance(body.get("content"), str):
        raise GitHubError(422, 'Invalid request.\n\n"content" wasn\'t supplied.')
    try:
        data = base64.b64decode(body["content"], validate=False)
    except binascii.Error:
        raise GitHubError(422, "Invalid request.\n\ncontent is not valid Base64.") from None
    branch, head = _branch(ctx, repo, body)
    current = _current(repo, head, path)
    _check_sha(path, current, body.get("sha"), deleting=False)
    blob = repo.git.write("blob", data)
    mode = current[0] if current else "100644"
    base = f"{head}^{{tree}}" if head else None
    tree = apply_edits(repo.git, base, {path: (mode, blob)})
    sha, commit = _commit(ctx, repo, body, head, tree)
    ref = f"refs/heads/{branch}"
    guard(ctx, repo, ref, (head, sha), status=409, prefix=UPDATE_REFUSED, fast_forward=True)
    move(ctx, repo, ref, sha, head)
    entry = ListedEntry(mode, "blob", blob, len(data), path)
    content = content_json(repo.url, repo.html, branch, entry)
    answer = {"content": content, "commit": git_commit_json(repo.url, repo.html, sha, commit)}
    return Reply(answer, 200 if current else 201)


def delete_contents(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}/contents/{path} (the blob `sha` is required)."""
    repo = ctx.repo("write")
    body = ctx.body()
    path = _path(ctx)
    if not path:
        raise not_found()
    branch, head = _branch(ctx, repo, body)
    _check_sha(path, _current(repo, head, path), body.get("sha"), deleting=True)
    tree = apply_edits(repo.git, f"{head}^{{tree}}", {path: None})
    sha, commit = _commit(ctx, repo, body, head, tree)
    ref = f"refs/heads/{branch}"
    guard(ctx, repo, ref, (head, sha), status=409, prefix=DELETE_REFUSED, fast_forward=True)
    move(ctx, repo, ref, sha, head)
    answer = {"content": None, "commit": git_commit_json(repo.url, repo.html, sha, commit)}
    return Reply(answer)


ROUTES: list[Route] = [
    route("GET", "/repos/{owner}/{repo}/contents", get_contents),
    route("GET", "/repos/{owner}/{repo}/contents/{path+}", get_contents),
    route("PUT", "/repos/{owner}/{repo}/contents/{path+}", put_contents),
    route("DELETE", "/repos/{owner}/{repo}/contents/{path+}", delete_contents),
]
