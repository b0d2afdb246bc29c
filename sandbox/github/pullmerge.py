"""Merging a pull request: where its branches stand, what blocks it, the merge or squash commit."""

from __future__ import annotations

from typing import Any

from sandbox.github import protection, pulls
from sandbox.github.branchwrites import caller, write_commit
from sandbox.github.git_objects import CommitData, Person
from sandbox.github.rest import Ctx, GitHubError, RepoRef

MERGE_DOCS = "https://docs.github.com/rest/pulls/pulls#merge-a-pull-request"
METHODS = {"merge": "allow_merge_commit", "squash": "allow_squash_merge"}


def pull_sha(repo: RepoRef, doc: dict[str, Any], side: str) -> str:
    """The commit at the head or base of a pull request (live while it is open)."""
    stored = str(doc[f"{side}_sha"])
    if doc["state"] != "open":
        return stored
    return repo.git.resolve(f"refs/heads/{doc[side]}") or stored


def blockers(ctx: Ctx, repo: RepoRef, doc: dict[str, Any]) -> list[str]:
    """Why the caller cannot merge the pull request under the base branch's protection."""
    rule = protection.get_rule(ctx.svc.store, repo.key, doc["base"])
    if rule is None:
        return []
    reviews = rule.get("required_pull_request_reviews") or {}
    head = pull_sha(repo, doc, "head")
    stale = bool(reviews.get("dismiss_stale_reviews"))
    count = pulls.tally(ctx.svc.store, repo.doc, doc, head, stale)
    is_admin = repo.permission == "admin"
    login = ctx.user.login
    return protection.merge_blockers(
        rule, login, is_admin, count.approvals, count.changes_requested
    )


def merge_state(ctx: Ctx, repo: RepoRef, doc: dict[str, Any]) -> tuple[bool | None, str]:
    """(`mergeable`, `mergeable_state`) as GitHub reports them to the caller."""
    if doc["state"] != "open":
        return None, "unknown"
    base, head = pull_sha(repo, doc, "base"), pull_sha(repo, doc, "head")
    if repo.git.merge_trees(base, head) is None:
        return False, "dirty"
    if doc.get("draft"):
        return True, "draft"
    return True, "blocked" if blockers(ctx, repo, doc) else "clean"


def merge_pull(
    ctx: Ctx, repo: RepoRef, doc: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """Merge (or squash) head into base; returns GitHub's merge answer."""
    if doc["state"] != "open":
        raise GitHubError(405, "Pull Request is not mergeable", documentation_url=MERGE_DOCS)
    method = body.get("merge_method") or "merge"
    if method not in METHODS:
        raise GitHubError(405, f"{method} merges are not supported by the sandbox.")
    if not repo.doc.get(METHODS[method], True):
        noun = "Merge commits" if method == "merge" else "Squash merges"
        raise GitHubError(405, f"{noun} are not allowed on this repository.")
    base, head = pull_sha(repo, doc, "base"), pull_sha(repo, doc, "head")
    if body.get("sha") and body["sha"] != head:
        raise GitHubError(409, "Head branch was modified. Review and try the merge again.")
    if doc.get("draft"):
        raise GitHubError(405, "Pull Request is still a draft", documentation_url=MERGE_DOCS)
    found = blockers(ctx, repo, doc)
    if found:
        raise GitHubError(405, " ".join(found), documentation_url=MERGE_DOCS)
    tree = repo.git.merge_trees(base, head)
    if tree is None:
        raise GitHubError(405, "Pull Request is not mergeable", documentation_url=MERGE_DOCS)
    number = int(doc["number"])
    if method == "merge":
        title = f"Merge pull request #{number} from {repo.doc['owner']}/{doc['head']}"
        default_message, parents = doc["title"], [base, head]
    else:
        title, default_message, parents = f"{doc['title']} (#{number})", "", [base]
    title = str(body.get("commit_title") or title)
    message = str(body.get("commit_message") or default_message)
    full = f"{title}\n\n{message}" if message else title
    author = caller(ctx)
    committer = Person("GitHub", "noreply@github.com", author.when)
    sha = write_commit(repo, CommitData(tree, tuple(parents), author, committer, full))
    if not repo.git.update_ref(f"refs/heads/{doc['base']}", sha, base, f"merge #{number}"):
        raise GitHubError(409, "Base branch was modified. Review and try the merge again.")
    now = ctx.svc.now()
    doc.update(
        state="closed",
        closed=now,
        merged=now,
        updated=now,
        merged_by=ctx.user.login.lower(),
        merged_by_id=ctx.user.id,
        merge_commit_sha=sha,
        head_sha=head,
        base_sha=base,
    )
    pulls.save_pull(ctx.svc.store, repo.key, doc)
    if repo.doc.get("delete_branch_on_merge") and not protection.get_rule(
        ctx.svc.store, repo.key, doc["head"]
    ):
        repo.git.delete_ref(f"refs/heads/{doc['head']}", head)
    return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}
