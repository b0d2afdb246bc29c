"""REST handlers: git references (`/git/ref`, `/git/refs`, `/git/matching-refs`)."""

from __future__ import annotations

import re
from typing import Any

from sandbox.github.branchwrites import guard, move
from sandbox.github.gitshapes import ref_json
from sandbox.github.rest import Ctx, GitHubError, Reply, RepoRef, Route, not_found, paginate, route

_BAD_REF = re.compile(r"(\.\.|@\{|//|[\x00-\x20~^:?*\[\\\x7f])")
REFS_DOCS = "https://docs.github.com/rest/git/refs"


def _full(ref: str) -> str:
    return ref if ref.startswith("refs/") else f"refs/{ref}"


def _valid(ref: str) -> bool:
    parts = ref.split("/")
    return (
        ref.startswith("refs/")
        and len(parts) >= 3
        and not _BAD_REF.search(ref)
        and all(p and not p.startswith(".") and not p.endswith(".lock") for p in parts)
        and not ref.endswith(".")
    )


def _listed(repo: RepoRef, prefix: str) -> list[dict[str, Any]]:
    return [ref_json(repo.url, ref, sha, kind) for ref, sha, kind in repo.git.refs(prefix)]


def _one(repo: RepoRef, ref: str) -> dict[str, Any] | None:
    found = [row for row in repo.git.refs(ref) if row[0] == ref]
    return ref_json(repo.url, *found[0]) if found else None


def get_ref(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/ref/{ref}."""
    repo = ctx.repo()
    found = _one(repo, _full(ctx.params["ref"]))
    if found is None:
        raise not_found()
    return Reply(found)


def list_refs(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/refs[/{prefix}]: one ref on an exact match, else a list."""
    repo = ctx.repo()
    ref = ctx.params.get("ref")
    if ref is None:
        return paginate(ctx, _listed(repo, "refs/"))
    full = _full(ref).rstrip("/")
    exact = _one(repo, full)
    if exact is not None:
        return Reply(exact)
    listed = _listed(repo, full + "/")
    if not listed:
        raise not_found()
    return paginate(ctx, listed)


def matching_refs(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/git/matching-refs/{ref}: refs starting with the prefix."""
    repo = ctx.repo()
    prefix = _full(ctx.params["ref"])
    return paginate(ctx, [r for r in _listed(repo, "refs/") if r["ref"].startswith(prefix)])


def _object_kind(repo: RepoRef, sha: Any) -> str:
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise GitHubError(422, "Object does not exist", documentation_url=REFS_DOCS)
    found = repo.git.read_one(sha)
    if found is None:
        raise GitHubError(422, "Object does not exist", documentation_url=REFS_DOCS)
    return found.kind


def create_ref(ctx: Ctx) -> Reply:
    """POST /repos/{owner}/{repo}/git/refs."""
    repo = ctx.repo("write")
    body = ctx.body()
    ref = body.get("ref")
    if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
        raise GitHubError(
            422,
            "Reference name must start with 'refs/' and have at least two slashes.",
            documentation_url=REFS_DOCS,
        )
    if not _valid(ref):
        raise GitHubError(422, f"{ref} is not a valid ref name.", documentation_url=REFS_DOCS)
    sha = body.get("sha")
    kind = _object_kind(repo, sha)
    if ref.startswith("refs/heads/") and kind != "commit":
        raise GitHubError(422, "Object is not a commit", documentation_url=REFS_DOCS)
    if not repo.git.update_ref(ref, str(sha), None, f"sandbox: {ctx.user.login}"):
        raise GitHubError(422, "Reference already exists", documentation_url=REFS_DOCS)
    return Reply(ref_json(repo.url, ref, str(sha), kind), 201)


def update_ref(ctx: Ctx) -> Reply:
    """PATCH /repos/{owner}/{repo}/git/refs/{ref}: fast-forward only unless `force`."""
    repo = ctx.repo("write")
    ref = _full(ctx.params["ref"])
    body = ctx.body()
    current = _one(repo, ref) if _valid(ref) else None
    if current is None:
        raise GitHubError(422, "Reference does not exist", documentation_url=REFS_DOCS)
    old = str(current["object"]["sha"])
    sha = body.get("sha")
    kind = _object_kind(repo, sha)
    new = str(sha)
    if not body.get("force") and (kind != "commit" or not repo.git.is_ancestor(old, new)):
        raise GitHubError(422, "Update is not a fast forward", documentation_url=REFS_DOCS)
    guard(ctx, repo, ref, (old, new), status=422)
    move(ctx, repo, ref, new, old)
    return Reply(ref_json(repo.url, ref, new, kind))


def delete_ref(ctx: Ctx) -> Reply:
    """DELETE /repos/{owner}/{repo}/git/refs/{ref}."""
    repo = ctx.repo("write")
    ref = _full(ctx.params["ref"])
    current = _one(repo, ref) if _valid(ref) else None
    if current is None:
        raise GitHubError(422, "Reference does not exist", documentation_url=REFS_DOCS)
    guard(ctx, repo, ref, (current["object"]["sha"], None), status=422)
    if not repo.git.delete_ref(ref, current["object"]["sha"]):
        raise GitHubError(409, "Reference update failed")
    return Reply(None, 204)


ROUTES: list[Route] = [
    route("GET", "/repos/{owner}/{repo}/git/ref/{ref+}", get_ref),
    route("GET", "/repos/{owner}/{repo}/git/refs", list_refs),
    route("GET", "/repos/{owner}/{repo}/git/refs/{ref+}", list_refs),
    route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref+}", matching_refs),
    route("POST", "/repos/{owner}/{repo}/git/refs", create_ref),
    route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref+}", update_ref),
    route("DELETE", "/repos/{owner}/{repo}/git/refs/{ref+}", delete_ref),
]
