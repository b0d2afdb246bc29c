"""REST handlers: reviews of pull requests (authors cannot approve their own)."""

from __future__ import annotations

from typing import Any

from sandbox.github import pulls
from sandbox.github.api_pulls import find_pull, user_ref
from sandbox.github.pullmerge import pull_sha
from sandbox.github.rest import Ctx, GitHubError, Reply, RepoRef, Route, invalid, paginate, route
from sandbox.github.shapes import iso, node_id


def review_json(ctx: Ctx, repo: RepoRef, number: int, review: dict[str, Any]) -> dict[str, Any]:
    """A pull request review."""
    pull_url = f"{repo.url}/pulls/{number}"
    html = f"{repo.html}/pull/{number}#pullrequestreview-{review['id']}"
    return {
        "id": review["id"],
        "node_id": node_id("PRR", int(review["id"])),
        "user": user_ref(ctx, review["user"], review["user_id"]),
        "body": review.get("body") or "",
        "state": review["state"],
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": "MEMBER",
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "submitted_at": iso(review["submitted"]),
        "commit_id": review["commit_id"],
    }


def create_review(ctx: Ctx) -> Reply:
    """POST /repos/{owner}/{repo}/pulls/{number}/reviews (authors cannot approve their own)."""
    repo = ctx.repo()
    doc = find_pull(ctx, repo)
    body = ctx.body()
    event = body.get("event")
    if event is not None and event not in pulls.EVENTS:
        raise invalid("PullRequestReview", "event")
    own = doc["user"] == ctx.user.login.lower()
    if own and event in ("APPROVE", "REQUEST_CHANGES"):
        verb = "approve" if event == "APPROVE" else "request changes on"
        raise GitHubError(
            422, "Unprocessable Entity", errors=[f"Can not {verb} your own pull request"]
        )
    if doc["state"] != "open" and event in ("APPROVE", "REQUEST_CHANGES"):
        raise GitHubError(422, "Unprocessable Entity", errors=["Pull request is closed"])
    fields = {
        "user": ctx.user.login.lower(),
        "user_id": ctx.user.id,
        "body": body.get("body") or "",
        "state": pulls.EVENTS.get(str(event), "PENDING"),
        "commit_id": body.get("commit_id") or pull_sha(repo, doc, "head"),
    }
    review = pulls.add_review(ctx.svc.store, repo.key, int(doc["number"]), fields, ctx.svc.now())
    return Reply(review_json(ctx, repo, int(doc["number"]), review))


def list_reviews(ctx: Ctx) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{number}/reviews."""
    repo = ctx.repo()
    number = int(find_pull(ctx, repo)["number"])
    reviews = pulls.list_reviews(ctx.svc.store, repo.key, number)
    return paginate(ctx, [review_json(ctx, repo, number, review) for review in reviews])


ROUTES: list[Route] = [
    route("GET", "/repos/{owner}/{repo}/pulls/{number}/reviews", list_reviews),
    route("POST", "/repos/{owner}/{repo}/pulls/{number}/reviews", create_review),
]
