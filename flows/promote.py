"""Flow: promote the teams' own software (their files in `manifests/apps/<team>/` that mlplat
does not render) from one environment to the next, then wait until each team's RepoSync on the
target has synced it. Protected targets get it through a pull request."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows._locks import mutating
from flows.provision_environment import DEFAULT_SPEC_DIR, context, publish
from mlplat.converge import promotion
from mlplat.converge.context import EnvContext
from tasks import promotion as promotion_tasks
from tasks import teams as team_tasks


def _promote(ctx: EnvContext, source: str, team: str | None) -> dict[str, Any]:
    teams = promotion.promotable(ctx, source, team)
    outcome, commit = promotion_tasks.promote_files(ctx, source, teams)
    gates = [team_tasks.wait_for_team_sync(ctx, member, commit) for member in teams]
    return {**publish(ctx, [outcome, *gates], what=f"promote-{source}"), "source": source}


@flow(name="promote", flow_run_name="promote[{source}->{target}]")
def promote(
    source: str,
    target: str,
    team: str | None = None,
    dry_run: bool = False,
    *,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
) -> dict[str, Any]:
    """Make `target`'s team-owned files equal `source`'s (for every team in both, or `team`)."""
    ctx = context(target, spec_dir, dry_run, endpoints)
    if source not in ctx.spec.environments or source == target:
        raise ValueError(f"promote: source {source!r} must be another known environment")
    get_run_logger().info("promoting %s → %s%s", source, target, " (dry run)" if dry_run else "")
    with mutating(ctx):
        return _promote(ctx, source, team)
