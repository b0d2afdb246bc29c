"""Repository settings in the store, and the bare repositories they describe on disk.

A repository is `<root>/<owner>/<name>.git` (lower-cased: GitHub names are case-insensitive);
its settings document is `github.repos/<owner>/<name>` (lower-cased too).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from sandbox.github.accounts import IDS, Account
from sandbox.github.git_objects import CommitData, Person, format_commit
from sandbox.github.gitrepo import GitRepo
from sandbox.github.treeedit import apply_edits
from sandbox.store import Store

REPOS = "github.repos"
NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
SETTINGS = {
    "description": "",
    "homepage": "",
    "private": False,
    "has_issues": True,
    "has_projects": True,
    "has_wiki": True,
    "has_discussions": False,
    "is_template": False,
    "archived": False,
    "allow_squash_merge": True,
    "allow_merge_commit": True,
    "allow_rebase_merge": True,
    "allow_auto_merge": False,
    "delete_branch_on_merge": False,
}


class RepoExistsError(Exception):
    """The owner already has a repository with that name."""


def repo_key(owner: str, name: str) -> str:
    """The store key of a repository."""
    return f"{owner.lower()}/{name.lower()}"


def get_repo(store: Store, owner: str, name: str) -> dict[str, Any] | None:
    """A repository's settings document, or None."""
    return store.get(REPOS, repo_key(owner, name))


def list_repos(store: Store, owner: str) -> list[dict[str, Any]]:
    """Repositories of an owner, by name."""
    return store.values(REPOS, f"{owner.lower()}/")


def repo_path(root: Path, doc: dict[str, Any]) -> Path:
    """Where a repository lives on disk."""
    return root / str(doc["owner"]).lower() / f"{str(doc['name']).lower()}.git"


def create_repo(
    store: Store,
    root: Path,
    owner: dict[str, Any],
    name: str,
    *,
    settings: dict[str, Any],
    creator: Account,
    now: float,
    auto_init: bool,
) -> dict[str, Any]:
    """Create the settings document and the bare repository (with a README when auto_init)."""
    if not NAME.match(name) or name in (".", ".."):
        raise ValueError("name is invalid")
    with store.transaction():
        if get_repo(store, owner["login"], name) is not None:
            raise RepoExistsError(name)
        doc: dict[str, Any] = {
            **SETTINGS,
            **{key: settings[key] for key in SETTINGS if settings.get(key) is not None},
            "owner": owner["login"],
            "owner_type": owner["type"],
            "owner_id": owner["id"],
            "name": name,
            "id": store.next_value(IDS),
            "default_branch": "main",
            "created": now,
            "updated": now,
            "pushed": now,
        }
        path = repo_path(root, doc)
        if path.exists():  # left over from a store reset
            shutil.rmtree(path)
        repo = GitRepo(path)
        repo.init("main")
        if auto_init:
            author = Person(creator.name, creator.email, int(now))
            initial_commit(repo, name, doc["description"], author)
        store.put(REPOS, repo_key(owner["login"], name), doc)
    return doc


def initial_commit(repo: GitRepo, name: str, description: str, author: Person) -> str:
    """Commit a README on main, as GitHub's `auto_init` does."""
    readme = f"# {name}\n" + (f"\n{description}\n" if description else "")
    blob = repo.write("blob", readme.encode())
    tree = apply_edits(repo, None, {"README.md": ("100644", blob)})
    body = format_commit(CommitData(tree, (), author, author, "Initial commit"))
    sha = repo.write("commit", body)
    repo.update_ref("refs/heads/main", sha, None, "auto_init")
    return sha


def save_repo(store: Store, doc: dict[str, Any]) -> None:
    """Store a changed settings document."""
    store.put(REPOS, repo_key(doc["owner"], doc["name"]), doc)


def delete_repo(store: Store, root: Path, doc: dict[str, Any]) -> None:
    """Forget a repository and remove it from disk (its protection and pulls go too)."""
    key = repo_key(doc["owner"], doc["name"])
    with store.transaction():
        store.delete(REPOS, key)
        for collection in ("github.protection", "github.pulls", "github.reviews"):
            for item, _ in store.items(collection, f"{key}#"):
                store.delete(collection, item)
    shutil.rmtree(repo_path(root, doc), ignore_errors=True)
