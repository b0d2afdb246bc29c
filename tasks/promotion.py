"""Task: promote the teams' own files from one environment's branch to the next."""

from __future__ import annotations

from mlplat.converge import promotion
from mlplat.converge.context import EnvContext, Outcome
from mlplat.errors import PermanentError
from mlplat.git.gitops_repo import connect, get_repository
from mlplat.specs import Team, naming
from tasks._runtime import env_task
from tasks._secrets import github_token


@env_task("promote-files", "{source}->{ctx.env_name}")
def promote_files(ctx: EnvContext, source: str, teams: list[Team]) -> tuple[Outcome, str | None]:
    """The source branch's team-owned files land on the target branch."""
    gitops = ctx.platform.gitops
    repo = get_repository(
        connect(ctx.target, github_token(gitops.token_secret)), gitops.owner, gitops.repository
    )
    if repo is None:
        raise PermanentError(f"git/repository {gitops.owner}/{gitops.repository}: not found")
    branch = naming.config_sync_branch(ctx.spec.environments[source])
    return promotion.promote_files(ctx, repo, branch, teams)
