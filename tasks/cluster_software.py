"""Task: what goes into the cluster directly (git-creds) and the GitOps readiness gates."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import cluster_software
from mlplat.converge.context import EnvContext, Outcome
from mlplat.specs import naming
from tasks._runtime import with_run_logger
from tasks._secrets import github_token


@task(
    name="ensure-cluster-software",
    task_run_name="ensure-cluster-software[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def ensure_cluster_software(ctx: EnvContext, commit: str | None) -> list[Outcome]:
    """git-creds for the RootSync, then: root-sync synced at `commit`, KubeRay CRDs Established."""
    ctx = with_run_logger(ctx)
    token = github_token(ctx.platform.gitops.token_secret)
    return [
        cluster_software.ensure_git_creds(ctx, token, naming.CONFIG_MANAGEMENT_NAMESPACE),
        cluster_software.wait_for_root_sync(ctx, commit),
        cluster_software.wait_for_ray_crds(ctx),
    ]


@task(
    name="wait-for-root-sync",
    task_run_name="wait-for-root-sync[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def wait_for_root_sync(ctx: EnvContext, commit: str | None) -> Outcome:
    """root-sync has synced `commit` (the platform-wide files, teams' spaces included)."""
    return cluster_software.wait_for_root_sync(with_run_logger(ctx), commit)
