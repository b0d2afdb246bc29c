"""Tasks: drift inside an environment's cluster, and putting committed objects back."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import cluster_drift
from mlplat.converge.context import EnvContext
from mlplat.drift import Finding
from tasks._runtime import with_run_logger


@task(name="observe-cluster-drift", task_run_name="observe-cluster-drift[{ctx.env_name}]",
      cache_policy=NO_CACHE)  # fmt: skip
def observe_cluster_drift(ctx: EnvContext) -> list[Finding]:
    """Committed objects missing or changed, sync errors, unhealthy RayClusters."""
    return cluster_drift.cluster_findings(with_run_logger(ctx))


@task(name="restore-cluster-objects", task_run_name="restore-cluster-objects[{ctx.env_name}]",
      cache_policy=NO_CACHE)  # fmt: skip
def restore_cluster_objects(ctx: EnvContext, findings: list[Finding]) -> int:
    """Apply the committed manifests of the objects found missing or changed."""
    return cluster_drift.remediate_objects(with_run_logger(ctx), findings)
