"""A provisioned platform for the drift benchmark, built fast: at 50 environments × 100 teams
the provisioning flows take about an hour on this machine (a Prefect task run per team step, an
access check per team). This builds the same state through mlplat's own core calls, the ones
the flows' tasks make, environments in parallel threads, without task runs, readiness gates or
access checks; then waits until the drift check itself finds nothing.

It is a benchmark fixture, not a way to provision: the flows' gates and checks are skipped."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlplat.converge import (
    cluster,
    cluster_software,
    environment_drift,
    fleet,
    gitops,
    identity,
    network,
    project,
    teams,
)
from mlplat.converge.context import EnvContext
from mlplat.git.gitops_repo import connect
from mlplat.render import cluster as render_cluster
from mlplat.specs import load_spec, naming
from mlplat.target import git_url, sandbox_from_file


def build(
    spec_dir: Path,
    endpoints: Path,
    envs: list[str],
    token: str,
    *,
    workers: int = 4,
    say: Callable[[str], object] = print,
) -> float:
    """Provision `envs` of the spec on the sandbox; returns the seconds it took until every
    environment's drift check was clean."""
    spec = load_spec(spec_dir)
    target = sandbox_from_file(endpoints)
    contexts = [EnvContext(spec=spec, env_name=env, target=target) for env in envs]
    started = time.monotonic()
    _provision(contexts[0], token)  # creates the shared repository: no race for it
    say(f"{envs[0]} provisioned ({time.monotonic() - started:.0f} s)")
    with ThreadPoolExecutor(workers) as pool:
        for done in pool.map(lambda ctx: _provision(ctx, token), contexts[1:]):
            say(f"{done} provisioned ({time.monotonic() - started:.0f} s)")
    for ctx in contexts:
        _converged(ctx, token, say)
    return time.monotonic() - started


def _provision(ctx: EnvContext, token: str) -> str:
    project.ensure_project(ctx)
    project.ensure_billing(ctx)
    project.ensure_services(ctx)
    identity.ensure_node_service_account(ctx)
    network.ensure_network(ctx)
    network.ensure_subnet(ctx)
    network.ensure_router(ctx)
    network.ensure_reservations(ctx)
    fleet.ensure_feature(ctx, fleet.CONFIG_MANAGEMENT)
    fleet.ensure_feature(ctx, fleet.POLICY_CONTROLLER)
    gh = connect(ctx.target, token)
    _, repo = gitops.ensure_repository(ctx, gh)
    _, head = gitops.ensure_branch(ctx, repo)
    gitops.ensure_protection(ctx, repo)
    gitops.ensure_manifests(ctx, repo, head)
    cluster.ensure_cluster(ctx)
    for pool in (
        render_cluster.system_pool(ctx.platform, ctx.env, ctx.project),
        *render_cluster.node_pools(ctx.platform, ctx.env, ctx.project),
    ):
        cluster.ensure_node_pool(ctx, pool)
    fleet.ensure_membership(ctx)
    repo_url = git_url(ctx.target, ctx.platform.gitops.owner, ctx.platform.gitops.repository)
    fleet.ensure_config_management(ctx, repo_url)
    fleet.ensure_policy_controller(ctx)
    cluster_software.ensure_git_creds(ctx, token, naming.CONFIG_MANAGEMENT_NAMESPACE)
    for member in ctx.spec.teams_in(ctx.env_name):
        teams.ensure_team_identity(ctx, member)
        teams.ensure_team_credentials(ctx, member, token)
    return ctx.env_name


def _converged(ctx: EnvContext, token: str, say: Callable[[str], object]) -> None:
    """Wait until the environment's drift check is clean (every sync synced, every RayCluster
    ready), 15 minutes at most."""
    planning = EnvContext(spec=ctx.spec, env_name=ctx.env_name, target=ctx.target, dry_run=True)
    deadline = time.monotonic() + 900
    while True:
        found = environment_drift.observe_environment(planning, token)
        if not found:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{ctx.env_name}: still drifted: {found[:3]}")
        say(f"{ctx.env_name}: waiting for {len(found)} finding(s), e.g. {found[0].resource}")
        time.sleep(5)
