"""The GitOps repository through GitHub's REST API: created once, a branch per environment,
protection, and the hydrated files of a branch written in one commit when anything differs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from github import Auth, Github, InputGitTreeElement
from github.Repository import Repository

from mlplat.git.errors import guarded, missing_as_none
from mlplat.target import Target

GITHUB_API = "https://api.github.com"
T = TypeVar("T")


def connect(target: Target, token: str) -> Github:
    """A PyGithub client for the target's GitHub (the sandbox's, or github.com)."""
    base = target.endpoint("github")
    api = f"{base.rstrip('/')}/api/v3" if base else GITHUB_API
    return Github(
        base_url=api,
        auth=Auth.Token(token),
        retry=None,  # mlplat retries transient errors itself, honouring Retry-After
        seconds_between_requests=0 if base else 0.25,
        seconds_between_writes=0 if base else 1.0,
    )


def loaded(obj: T, *attributes: str) -> T:
    """`obj` once the attributes mlplat reads are readable: PyGithub raises for a value of the
    wrong type only when it is read, so adapters read them inside `guarded`."""
    for path in attributes:
        value: object = obj
        for attribute in path.split("."):
            value = getattr(value, attribute)
    return obj


_REPOSITORY = ("default_branch", "full_name", "owner")


def get_repository(gh: Github, owner: str, name: str) -> Repository | None:
    return missing_as_none(
        f"git/repository {owner}/{name}: get",
        lambda: loaded(gh.get_repo(f"{owner}/{name}"), *_REPOSITORY),
    )


def create_repository(gh: Github, owner: str, name: str, description: str) -> Repository:
    """A private repository with an initial commit on its default branch."""

    def create() -> Repository:
        org = gh.get_organization(owner)
        created = org.create_repo(
            name,
            description=description,
            private=True,
            auto_init=True,
            has_issues=False,
            has_projects=False,
            has_wiki=False,
        )
        return loaded(created, *_REPOSITORY)

    return guarded(f"git/repository {owner}/{name}: create", create)


def branch_head(repo: Repository, branch: str) -> str | None:
    """The commit a branch points at, or None when it does not exist."""
    return missing_as_none(
        f"git/branch {branch}: get", lambda: str(repo.get_git_ref(f"heads/{branch}").object.sha)
    )


def create_branch(repo: Repository, branch: str, sha: str) -> None:
    guarded(
        f"git/branch {branch}: create", lambda: repo.create_git_ref(f"refs/heads/{branch}", sha)
    )


def required_reviews(repo: Repository, branch: str) -> int | None:
    """Approvals the branch's protection requires (0 without review rule), None unprotected."""

    def read() -> int:
        reviews = repo.get_branch(branch).get_protection().required_pull_request_reviews
        return 0 if reviews is None else int(reviews.required_approving_review_count)

    return missing_as_none(f"git/branch {branch}: get protection", read)


def protect(repo: Repository, branch: str, reviewers: int) -> None:
    """Changes reach the branch only through pull requests with `reviewers` approvals (mlplat's
    bot, an administrator, merges its own once the run was approved; GitHub records it)."""
    guarded(
        f"git/branch {branch}: protect",
        lambda: repo.get_branch(branch).edit_protection(
            required_approving_review_count=reviewers, enforce_admins=False
        ),
    )


def blob_sha(content: bytes) -> str:
    """Git's object ID of a file's content: what the tree lists, computed without a download."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class FileChanges:
    """What a branch needs so that its owned files equal the rendered ones."""

    write: tuple[str, ...]
    delete: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.write or self.delete)

    def paths(self) -> tuple[str, ...]:
        return tuple(sorted((*self.write, *self.delete)))


def file_changes(
    repo: Repository, head: str, files: Mapping[str, str], owned: Callable[[str], bool]
) -> FileChanges:
    """Compare the branch's tree (one read) with the rendered files."""

    def read() -> dict[str, str]:
        tree = repo.get_git_tree(head, recursive=True).tree
        return {entry.path: entry.sha for entry in tree if entry.type == "blob"}

    current = guarded("git/tree: get", read, idempotent=True)
    write = tuple(
        sorted(path for path, text in files.items() if current.get(path) != blob_sha(text.encode()))
    )
    delete = tuple(sorted(path for path in current if owned(path) and path not in files))
    return FileChanges(write, delete)


def new_commit(
    repo: Repository,
    parent_sha: str,
    files: Mapping[str, str],
    *,
    changes: FileChanges,
    message: str,
) -> str:
    """A commit (not on any branch yet) writing and deleting `changes` on top of `parent_sha`.
    Each call is retried on its own (content-addressed objects: repeating one is harmless), so
    that a transient failure of one does not cost the others."""
    parent = guarded(
        f"git/commit {parent_sha[:12]}: get",
        lambda: loaded(repo.get_git_commit(parent_sha), "tree"),
        idempotent=True,
    )
    elements = [
        InputGitTreeElement(path, "100644", "blob", content=files[path]) for path in changes.write
    ] + [InputGitTreeElement(path, "100644", "blob", sha=None) for path in changes.delete]
    tree = guarded(
        "git/tree: create", lambda: repo.create_git_tree(elements, base_tree=parent.tree)
    )
    return guarded(
        "git/commit: create", lambda: str(repo.create_git_commit(message, tree, [parent]).sha)
    )


def commit_files(
    repo: Repository,
    branch: str,
    head: str,
    files: Mapping[str, str],
    *,
    changes: FileChanges,
    message: str,
) -> str:
    """One commit on `branch` writing and deleting `changes`; returns its SHA."""

    sha = new_commit(repo, head, files, changes=changes, message=message)
    what = f"git/branch {branch}: commit {len(changes.paths())} files"
    ref = guarded(f"{what}: get", lambda: repo.get_git_ref(f"heads/{branch}"), idempotent=True)
    guarded(what, lambda: ref.edit(sha))  # fast-forward only; the same SHA again is a no-op
    return sha


def delete_branch(repo: Repository, branch: str) -> bool:
    """Remove the branch (and its protection first); False when it is gone already."""
    if required_reviews(repo, branch) is not None:
        guarded(
            f"git/branch {branch}: unprotect",
            lambda: repo.get_branch(branch).remove_protection(),
        )
    ref = missing_as_none(f"git/branch {branch}: get", lambda: repo.get_git_ref(f"heads/{branch}"))
    if ref is None:
        return False
    guarded(f"git/branch {branch}: delete", ref.delete)
    return True
