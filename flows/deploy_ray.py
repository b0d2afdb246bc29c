"""Flow: (re)deploy a team's Ray cluster on one environment from its spec: the RayCluster file
in the team's Git folder, synced by the team's RepoSync, then ready under KubeRay."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from flows._locks import mutating
from flows.provision_environment import DEFAULT_SPEC_DIR, context
from mlplat.converge import teams
from mlplat.converge.context import EnvContext
from mlplat.errors import PermanentError
from mlplat.render import raycluster
from tasks import cluster_software, gitops
from tasks import teams as team_tasks


def _deploy(ctx: EnvContext, team: str) -> dict[str, Any]:
    member = teams.team(ctx, team)
    if not member.ray.enabled:
        raise PermanentError(f"team {team!r} has Ray disabled (ray.enabled: false)")
    teams.require_provisioned(ctx)
    git_outcomes, branch = gitops.ensure_gitops(ctx)
    commit = branch.head if branch else None
    cluster_software.wait_for_root_sync(ctx, commit)
    team_tasks.ensure_team_credentials(ctx, member)
    sync = team_tasks.wait_for_team_sync(ctx, member, commit)
    ray, _ = team_tasks.wait_for_team_workloads(ctx, member)
    groups = [
        f"{w.name}: {w.min_replicas}–{w.max_replicas} × {w.resources.cpu} CPU, "
        f"{w.resources.memory}, {w.resources.gpu} GPU"
        + (f" ({w.accelerator}, {w.provisioning})" if w.accelerator else "")
        for w in member.ray.workers
    ]
    name = raycluster.cluster_name(member)
    endpoint = raycluster.endpoint(member)
    create_markdown_artifact(
        markdown="\n".join(
            [
                f"# Ray of team {team} on {ctx.env_name}" + (" (plan)" if ctx.dry_run else ""),
                "",
                f"- **RayCluster**: `{member.namespace_name}/{name}` — {ray.detail or 'ready'}",
                f"- **Client address**: `{endpoint}`",
                f"- **Head**: {member.ray.head.cpu} CPU, {member.ray.head.memory}",
                *(f"- **Workers** {g}" for g in groups),
                f"- **Synced**: {sync.detail}",
            ]
        ),
        key=f"ray-{team}-{ctx.env_name}",
        description=f"mlplat Ray of team {team} on {ctx.env_name}",
    )
    return {
        "team": team,
        "environment": ctx.env_name,
        "raycluster": f"{member.namespace_name}/{name}",
        "endpoint": endpoint,
        "rows": [o.row() for o in [*git_outcomes, sync, ray]],
    }


@flow(name="deploy-ray", flow_run_name="deploy-ray[{env}/{team}]")
def deploy_ray(
    env: str,
    team: str,
    dry_run: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
) -> dict[str, Any]:
    """Commit the team's RayCluster as its spec declares it and wait until it is ready."""
    ctx = context(env, spec_dir, dry_run, endpoints)
    get_run_logger().info("ray of team %s on %s%s", team, env, " (dry run)" if dry_run else "")
    with mutating(ctx):
        return _deploy(ctx, team)
