"""Tasks: a team leaving one environment (its namespaces pruned, its Google identity deleted)."""

from __future__ import annotations

from mlplat.converge import offboarding
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import env_task


@env_task("find-team-namespaces", "{ctx.env_name}/{team}")
def find_team_namespaces(ctx: EnvContext, team: str) -> list[str]:
    """The namespaces carrying the team's label in the environment's cluster."""
    return offboarding.team_namespaces(ctx, team)


@env_task("wait-for-team-pruned", "{ctx.env_name}/{team}")
def wait_for_team_pruned(ctx: EnvContext, team: str, namespaces: list[str]) -> list[Outcome]:
    """Config Sync has deleted the team's namespaces and everything in them."""
    return offboarding.wait_for_pruned(ctx, namespaces)


@env_task("remove-team-identity", "{ctx.env_name}/{team}")
def remove_team_identity(ctx: EnvContext, team: str) -> Outcome:
    """The team's Google service account is deleted."""
    return offboarding.remove_team_identity(ctx, team)
