"""Tasks: a team on one environment (identity, credentials, readiness gates, access check)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import teams
from mlplat.converge.context import EnvContext, Outcome
from mlplat.specs import Team
from tasks._runtime import with_run_logger
from tasks._secrets import github_token


@task(
    name="ensure-team-identity",
    task_run_name="ensure-team-identity[{ctx.env_name}/{member.name}]",
    cache_policy=NO_CACHE,
)
def ensure_team_identity(ctx: EnvContext, member: Team, absent: bool = False) -> Outcome:
    """The team's Google service account, bound to its Kubernetes service account."""
    return teams.ensure_team_identity(with_run_logger(ctx), member, absent=absent)


@task(
    name="ensure-team-credentials",
    task_run_name="ensure-team-credentials[{ctx.env_name}/{member.name}]",
    cache_policy=NO_CACHE,
)
def ensure_team_credentials(ctx: EnvContext, member: Team) -> Outcome:
    """`git-creds` in the team's namespace, for its RepoSync."""
    ctx = with_run_logger(ctx)
    return teams.ensure_team_credentials(
        ctx, member, github_token(ctx.platform.gitops.token_secret)
    )


@task(
    name="wait-for-team-sync",
    task_run_name="wait-for-team-sync[{ctx.env_name}/{member.name}]",
    cache_policy=NO_CACHE,
)
def wait_for_team_sync(ctx: EnvContext, member: Team, commit: str | None) -> Outcome:
    """The team's RepoSync has synced `commit`."""
    return teams.wait_for_repo_sync(with_run_logger(ctx), member, commit)


@task(
    name="wait-for-team-workloads",
    task_run_name="wait-for-team-workloads[{ctx.env_name}/{member.name}]",
    cache_policy=NO_CACHE,
)
def wait_for_team_workloads(ctx: EnvContext, member: Team) -> list[Outcome]:
    """The team's RayCluster is ready and its notebook available (each when enabled)."""
    ctx = with_run_logger(ctx)
    return [teams.wait_for_ray(ctx, member), teams.wait_for_notebook(ctx, member)]


@task(
    name="ensure-team-space",
    task_run_name="ensure-team-space[{ctx.env_name}/{member.name}]",
    cache_policy=NO_CACHE,
)
def ensure_team_space(
    ctx: EnvContext, member: Team, commit: str | None
) -> tuple[list[Outcome], teams.AccessResult]:
    """The team's side of its cluster, in order: `git-creds`, its RepoSync synced at `commit`,
    the access check, then its RayCluster and notebook ready. One task, not four: a provisioning
    run has one per team and environment, and each task run costs Prefect (client and server)
    more CPU than the calls it makes."""
    ctx = with_run_logger(ctx)
    creds = teams.ensure_team_credentials(
        ctx, member, github_token(ctx.platform.gitops.token_secret)
    )
    sync = teams.wait_for_repo_sync(ctx, member, commit)
    access = teams.verify_access(ctx, member)
    if access.checked:
        ctx.log(
            f"access/{member.name}: {access.checked - len(access.failures)}/{access.checked} "
            "checks as expected"
        )
    for failure in access.failures:
        ctx.log(f"access/{member.name}: UNEXPECTED: {failure}")
    return [
        creds,
        sync,
        teams.wait_for_ray(ctx, member),
        teams.wait_for_notebook(ctx, member),
    ], access
