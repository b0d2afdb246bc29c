"""Writing to branches through the API: new commits, protection checks, compare-and-swap moves."""

from __future__ import annotations

from typing import Any

from sandbox.github import protection
from sandbox.github.git_objects import CommitData, Person, format_commit, person_at
from sandbox.github.repo_settings import save_repo
from sandbox.github.rest import Ctx, GitHubError, RepoRef

PROTECTED_DOCS = "https://docs.github.com/articles/about-protected-branches"


def caller(ctx: Ctx) -> Person:
    """The authenticated user as a commit author, now."""
    return Person(ctx.user.name, ctx.user.email, int(ctx.svc.now()))


def person_from(ctx: Ctx, value: Any, default: Person) -> Person:
    """An author/committer object of a request (`name`, `email`, optional `date`)."""
    if value is None:
        return default
    if not isinstance(value, dict) or not value.get("name") or not value.get("email"):
        raise GitHubError(
            422, "Invalid request.\n\nFor 'properties/author', name and email are required."
        )
    try:
        return person_at(str(value["name"]), str(value["email"]), value.get("date"), ctx.svc.now())
    except ValueError:
        raise GitHubError(
            422, f"Invalid request.\n\n{value.get('date')!r} is not a date."
        ) from None


def write_commit(repo: RepoRef, commit: CommitData) -> str:
    """Store a commit object; returns its SHA."""
    return repo.git.write("commit", format_commit(commit))


def guard(
    ctx: Ctx,
    repo: RepoRef,
    ref: str,
    change: tuple[str | None, str | None],
    *,
    status: int,
    prefix: str = "",
    fast_forward: bool | None = None,
) -> None:
    """Refuse a direct (old, new) change of a protected branch with GitHub's status and message."""
    if not ref.startswith("refs/heads/"):
        return
    rule = protection.get_rule(ctx.svc.store, repo.key, ref[len("refs/heads/") :])
    if rule is None:
        return
    old, new = change
    is_admin = repo.permission == "admin"
    update = protection.Update(ctx.user.login, is_admin, old, new, fast_forward)
    if protection.needs_fast_forward_check(rule, update):
        assert old is not None and new is not None
        update = protection.Update(
            update.login, update.is_admin, old, new, repo.git.is_ancestor(old, new)
        )
    found = protection.violations(rule, update)
    if found:
        raise GitHubError(status, prefix + " ".join(found), documentation_url=PROTECTED_DOCS)


def move(ctx: Ctx, repo: RepoRef, ref: str, new: str, old: str | None) -> None:
    """Move ref from old to new atomically; 409 when someone moved it meanwhile."""
    if not repo.git.update_ref(ref, new, old, f"sandbox: {ctx.user.login}"):
        current = repo.git.resolve(ref) or "nothing"
        branch = ref.removeprefix("refs/heads/")
        raise GitHubError(409, f"{branch} is at {current} but expected {old}")
    save_repo(ctx.svc.store, {**repo.doc, "pushed": ctx.svc.now()})
