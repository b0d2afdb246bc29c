"""Changes to a protected branch: staged on mlplat's work branch, proposed as a pull request
with the plan in its description, merged once reviewers approved it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from github.PullRequest import PullRequest
from github.Repository import Repository

from mlplat.errors import UNKNOWN_ENUM, malformed
from mlplat.git.errors import guarded, missing_as_none
from mlplat.git.gitops_repo import FileChanges, file_changes, loaded, new_commit

WORK_PREFIX = "mlplat/"
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
_PULL = ("number", "html_url", "head.sha")


def work_branch(branch: str) -> str:
    """The branch mlplat proposes changes to `branch` from."""
    return f"{WORK_PREFIX}{branch}"


def open_pull(repo: Repository, base: str) -> PullRequest | None:
    """mlplat's open pull request into `base`, if any."""

    def read() -> list[PullRequest]:
        head = f"{repo.owner.login}:{work_branch(base)}"
        pulls = repo.get_pulls(state="open", base=base, head=head)
        return [loaded(pull, *_PULL) for pull in pulls]

    pulls = guarded(f"git/pull-requests into {base}: list", read, idempotent=True)
    return pulls[0] if pulls else None


def carries(
    repo: Repository, pull: PullRequest, files: Mapping[str, str], owned: Callable[[str], bool]
) -> bool:
    """Whether the pull request's head already holds exactly the rendered files."""
    return not file_changes(repo, pull.head.sha, files, owned)


def propose(
    repo: Repository,
    base: str,
    base_head: str,
    files: Mapping[str, str],
    *,
    changes: FileChanges,
    title: str,
    body: str,
) -> PullRequest:
    """Stage the change on the work branch (on top of `base_head`) and open, or update, the
    pull request into `base`."""
    sha = new_commit(repo, base_head, files, changes=changes, message=title)
    ref = missing_as_none(
        f"git/branch {work_branch(base)}: get",
        lambda: repo.get_git_ref(f"heads/{work_branch(base)}"),
    )
    if ref is None:
        guarded(
            f"git/branch {work_branch(base)}: create",
            lambda: repo.create_git_ref(f"refs/heads/{work_branch(base)}", sha),
        )
    else:
        guarded(f"git/branch {work_branch(base)}: move", lambda: ref.edit(sha, force=True))
    pull = open_pull(repo, base)
    if pull is not None:
        guarded(f"git/pull-request #{pull.number}: edit", lambda: pull.edit(title=title, body=body))
        return pull
    return guarded(
        f"git/pull-request into {base}: create",
        lambda: loaded(
            repo.create_pull(base=base, head=work_branch(base), title=title, body=body), *_PULL
        ),
    )


def _fresh(repo: Repository, number: int) -> PullRequest:
    return guarded(
        f"git/pull-request #{number}: get",
        lambda: loaded(repo.get_pull(number), *_PULL),
        idempotent=True,
    )


def approvals(repo: Repository, number: int) -> int:
    """Reviewers whose latest review approves the pull request's current head."""
    pull = _fresh(repo, number)
    head = pull.head.sha

    def read() -> list[tuple[str, str, str]]:
        return [(r.state, r.user.login, r.commit_id) for r in pull.get_reviews()]

    reviews = guarded(f"git/pull-request #{number}: reviews", read, idempotent=True)
    latest: dict[str, str] = {}
    for state, login, commit in reviews:
        if state not in REVIEW_STATES:  # what to count cannot be decided
            raise malformed(
                f"git/pull-request #{number}: reviews",
                UNKNOWN_ENUM,
                f"state: {state!r} is none of {', '.join(REVIEW_STATES)}",
                idempotent=False,
            )
        if state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login] = state if commit == head else "STALE"
    return sum(1 for state in latest.values() if state == "APPROVED")


def merge(repo: Repository, number: int) -> str:
    """Merge the pull request at the head that was approved; returns the merge commit."""
    pull = _fresh(repo, number)
    return guarded(
        f"git/pull-request #{pull.number}: merge",
        lambda: str(pull.merge(merge_method="merge", sha=pull.head.sha).sha),
    )
