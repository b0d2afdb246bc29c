"""Tasks: a team leaving one environment (its namespaces pruned, its Google identity deleted)."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import offboarding
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import with_run_logger


@task(
    name="find-team-namespaces",
    task_run_name="find-team-namespaces[{ctx.env_name}/{team}]",
    cache_policy=NO_CACHE,
)
def find_team_namespaces(ctx: EnvContext, team: str) -> list[str]:
    """The namespaces carrying the team's label in the environment's cluster."""
    return offboarding.team_namespaces(with_run_logger(ctx), team)


@task(
    name="wait-for-team-pruned",
    task_run_name="wait-for-team-pruned[{ctx.env_name}/{team}]",
    cache_policy=NO_CACHE,
)
def wait_for_team_pruned(ctx: EnvContext, team: str, namespaces: list[str]) -> list[Outcome]:
    """Config Sync has deleted the team's namespaces and everything in them."""
    return offboarding.wait_for_pruned(with_run_logger(ctx), namespaces)


@task(
    name="remove-team-identity",
    task_run_name="remove-team-identity[{ctx.env_name}/{team}]",
    cache_policy=NO_CACHE,
)
def remove_team_identity(ctx: EnvContext, team: str) -> Outcome:
    """The team's Google service account is deleted."""
    return offboarding.remove_team_identity(with_run_logger(ctx), team)
