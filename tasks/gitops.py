"""Task: the GitOps repository, the environment's branch and protection, and its manifests."""

from __future__ import annotations

from mlplat.converge import gitops
from mlplat.converge.context import EnvContext, Outcome
from mlplat.git.gitops_repo import connect
from tasks._runtime import env_task
from tasks._secrets import github_token


@env_task("ensure-gitops")
def ensure_gitops(ctx: EnvContext) -> tuple[list[Outcome], gitops.BranchState | None]:
    """Repository, branch, protection and hydrated manifests; returns the branch head."""
    gh = connect(ctx.target, github_token(ctx.platform.gitops.token_secret))
    repo_outcome, repo = gitops.ensure_repository(ctx, gh)
    branch_outcome, head = gitops.ensure_branch(ctx, repo)
    protection = gitops.ensure_protection(ctx, repo)
    manifests, state = gitops.ensure_manifests(ctx, repo, head)
    return [repo_outcome, branch_outcome, protection, manifests], state
