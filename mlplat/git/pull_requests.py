"""Changes to a protected branch: staged on mlplat's work branch, proposed as a pull request
with the plan in its description, merged once reviewers approved it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from github.PullRequest import PullRequest
from github.Repository import Repository

from mlplat.git.errors import guarded, missing_as_none
from mlplat.git.gitops_repo import FileChanges, file_changes, new_commit

WORK_PREFIX = "mlplat/"


def work_branch(branch: str) -> str:
    """The branch mlplat proposes changes to `branch` from."""
    return f"{WORK_PREFIX}{branch}"


def open_pull(repo: Repository, base: str) -> PullRequest | None:
    """mlplat's open pull request into `base`, if any."""
    head = f"{repo.owner.login}:{work_branch(base)}"
    pulls = guarded(
        f"git/pull-requests into {base}: list",
        lambda: list(repo.get_pulls(state="open", base=base, head=head)),
    )
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
    sha = guarded(
        f"git/branch {work_branch(base)}: commit",
        lambda: new_commit(repo, base_head, files, changes=changes, message=title),
    )
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
        lambda: repo.create_pull(base=base, head=work_branch(base), title=title, body=body),
    )


def _fresh(repo: Repository, number: int) -> PullRequest:
    return guarded(f"git/pull-request #{number}: get", lambda: repo.get_pull(number))


def approvals(repo: Repository, number: int) -> int:
    """Reviewers whose latest review approves the pull request's current head."""
    pull = _fresh(repo, number)
    head = pull.head.sha
    reviews = guarded(f"git/pull-request #{number}: reviews", lambda: list(pull.get_reviews()))
    latest: dict[str, str] = {}
    for review in reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user.login] = review.state if review.commit_id == head else "STALE"
    return sum(1 for state in latest.values() if state == "APPROVED")


def merge(repo: Repository, number: int) -> str:
    """Merge the pull request at the head that was approved; returns the merge commit."""
    pull = _fresh(repo, number)
    status = guarded(
        f"git/pull-request #{pull.number}: merge",
        lambda: pull.merge(merge_method="merge", sha=pull.head.sha),
    )
    return str(status.sha)
