"""Pull requests and reviews in the store, and the review tally protection rules ask for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.github.accounts import IDS, allows, get_user, permission
from sandbox.github.repo_settings import repo_key
from sandbox.store import Store

PULLS = "github.pulls"
REVIEWS = "github.reviews"
EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}


def pull_key(repo_key: str, number: int) -> str:
    """Store key of a pull request."""
    return f"{repo_key}#{number:06d}"


def get_pull(store: Store, repo_key: str, number: int) -> dict[str, Any] | None:
    """A pull request document, or None."""
    return store.get(PULLS, pull_key(repo_key, number))


def list_pulls(store: Store, repo_key: str) -> list[dict[str, Any]]:
    """A repository's pull requests, newest first."""
    return list(reversed(store.values(PULLS, f"{repo_key}#")))


def create_pull(store: Store, repo_key: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
    """Store a new pull request with the repository's next number."""
    with store.transaction():
        number = store.next_value(f"github.numbers:{repo_key}")
        doc = {
            **fields,
            "number": number,
            "id": store.next_value(IDS),
            "state": "open",
            "created": now,
            "updated": now,
            "closed": None,
            "merged": None,
            "merged_by": None,
            "merge_commit_sha": None,
        }
        store.put(PULLS, pull_key(repo_key, number), doc)
    return doc


def save_pull(store: Store, repo_key: str, doc: dict[str, Any]) -> None:
    """Store a changed pull request."""
    store.put(PULLS, pull_key(repo_key, int(doc["number"])), doc)


def add_review(
    store: Store, repo_key: str, number: int, fields: dict[str, Any], now: float
) -> dict[str, Any]:
    """Store a review of a pull request."""
    with store.transaction():
        review_id = store.next_value(IDS)
        doc = {**fields, "id": review_id, "submitted": now}
        store.put(REVIEWS, f"{pull_key(repo_key, number)}#{review_id:09d}", doc)
    return doc


def list_reviews(store: Store, repo_key: str, number: int) -> list[dict[str, Any]]:
    """Reviews of a pull request, oldest first."""
    return store.values(REVIEWS, f"{pull_key(repo_key, number)}#")


@dataclass(frozen=True)
class Tally:
    """What the reviews of writers other than the author amount to."""

    approvals: int
    changes_requested: bool


def tally(
    store: Store, repo: dict[str, Any], pull: dict[str, Any], head: str, stale_dismissed: bool
) -> Tally:
    """Count each writer's latest approving or change-requesting review.

    With `stale_dismissed` (dismiss_stale_reviews), approvals of an older head do not count.
    """
    latest: dict[str, dict[str, Any]] = {}
    key = repo_key(repo["owner"], repo["name"])
    for review in list_reviews(store, key, int(pull["number"])):
        if review["state"] in ("APPROVED", "CHANGES_REQUESTED"):
            latest[review["user"]] = review
    approvals, changes = 0, False
    for login, review in latest.items():
        user = get_user(store, login)
        if user is None or login == pull["user"] or not allows(permission(user, repo), "write"):
            continue
        if review["state"] == "CHANGES_REQUESTED":
            changes = True
        elif not stale_dismissed or review["commit_id"] == head:
            approvals += 1
    return Tally(approvals, changes)
