"""Task: what goes into the cluster directly (git-creds) and the GitOps readiness gates."""

from __future__ import annotations

from mlplat.converge import cluster_software
from mlplat.converge.context import EnvContext, Outcome
from mlplat.specs import naming
from tasks._runtime import env_task
from tasks._secrets import github_token


@env_task("ensure-cluster-software")
def ensure_cluster_software(ctx: EnvContext, commit: str | None) -> list[Outcome]:
    """git-creds for the RootSync, then: root-sync synced at `commit`, KubeRay CRDs Established."""
    token = github_token(ctx.platform.gitops.token_secret)
    return [
        cluster_software.ensure_git_creds(ctx, token, naming.CONFIG_MANAGEMENT_NAMESPACE),
        cluster_software.wait_for_root_sync(ctx, commit),
        cluster_software.wait_for_ray_crds(ctx),
    ]


@env_task("wait-for-root-sync")
def wait_for_root_sync(ctx: EnvContext, commit: str | None) -> Outcome:
    """root-sync has synced `commit` (the platform-wide files, teams' spaces included)."""
    return cluster_software.wait_for_root_sync(ctx, commit)
