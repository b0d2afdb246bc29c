"""Flow: give a team its space on one provisioned environment: its files in Git (namespace,
roles for its members, quota, network isolation, RepoSync, Ray, notebook), its Google identity
and credentials, then wait until it is synced and ready and prove its access."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows._locks import mutating
from flows._teams import converge_teams
from flows.provision_environment import DEFAULT_SPEC_DIR, context
from mlplat.converge import teams
from mlplat.converge.context import EnvContext
from mlplat.plan import Action
from tasks import cluster_software, gitops


def _onboard(ctx: EnvContext, team: str) -> dict[str, Any]:
    member = teams.team(ctx, team)
    teams.require_provisioned(ctx)
    git_outcomes, branch = gitops.ensure_gitops(ctx)
    commit = branch.head if branch else None
    cluster_software.wait_for_root_sync(ctx, commit)
    _, reports = converge_teams(ctx, [member], commit)
    changed = [o.row() for o in git_outcomes if o.change.action is not Action.NOOP]
    return {**reports[0], "git": changed}


@flow(name="onboard-team", flow_run_name="onboard-team[{env}/{team}]")
def onboard_team(
    env: str,
    team: str,
    dry_run: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
) -> dict[str, Any]:
    """Onboard (or converge) `team` on `env` as `teams/<team>.yaml` declares it.

    With `dry_run` nothing changes and the team's artifact shows the plan."""
    ctx = context(env, spec_dir, dry_run, endpoints)
    get_run_logger().info("team %s on %s%s", team, env, " (dry run)" if dry_run else "")
    with mutating(ctx):
        return _onboard(ctx, team)
