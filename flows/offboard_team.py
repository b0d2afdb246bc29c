"""Flow: a team leaves one environment. Its files leave Git, Config Sync prunes its namespace
(RBAC, quota, RepoSync, Ray, notebook, Secrets with it), its Google service account is deleted;
nothing of it stays behind. Without `confirm` it only shows that plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows._locks import mutating
from flows.provision_environment import DEFAULT_SPEC_DIR, context, publish
from mlplat.converge import offboarding
from mlplat.converge.context import EnvContext
from tasks import cluster_software, gitops
from tasks import offboarding as offboard_tasks


def _offboard(ctx: EnvContext, team: str) -> dict[str, Any]:
    namespaces = offboard_tasks.find_team_namespaces(ctx, team)
    git_outcomes, branch = gitops.ensure_gitops(ctx)
    gate = cluster_software.wait_for_root_sync(ctx, branch.head if branch else None)
    pruned = offboard_tasks.wait_for_team_pruned(ctx, team, namespaces)
    identity = offboard_tasks.remove_team_identity(ctx, team)
    result = publish(ctx, [*git_outcomes, gate, *pruned, identity], what=f"offboard-{team}")
    return {**result, "team": team, "namespaces": namespaces}


@flow(name="offboard-team", flow_run_name="offboard-team[{env}/{team}]")
def offboard_team(
    env: str,
    team: str,
    confirm: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
) -> dict[str, Any]:
    """Remove everything of `team` from `env`, once the spec no longer lists it there.

    Without `confirm` nothing changes: the plan of what would be removed is published."""
    ctx = context(env, spec_dir, dry_run=not confirm, endpoints=endpoints)
    offboarding.require_left_spec(ctx, team, str(Path(spec_dir) / "teams" / f"{team}.yaml"))
    get_run_logger().info(
        "offboarding team %s from %s%s", team, env, "" if confirm else " (plan: confirm=False)"
    )
    with mutating(ctx):
        return _offboard(ctx, team)
