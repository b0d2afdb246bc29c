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
    name="verify-team-access",
    task_run_name="verify-team-access[{ctx.env_name}/{member.name}]",
    cache_policy=NO_CACHE,
)
def verify_team_access(ctx: EnvContext, member: Team) -> teams.AccessResult:
    """SubjectAccessReviews: each member may do what the role allows at home, nothing elsewhere."""
    ctx = with_run_logger(ctx)
    result = teams.verify_access(ctx, member)
    if result.checked:
        ctx.log(
            f"access/{member.name}: {result.checked - len(result.failures)}/{result.checked} "
            "checks as expected"
        )
    for failure in result.failures:
        ctx.log(f"access/{member.name}: UNEXPECTED: {failure}")
    return result
