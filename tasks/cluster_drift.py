"""Tasks: an environment's drift, putting committed objects back into its cluster, and pruning
the unmanaged objects found in what it owns."""

from __future__ import annotations

import dataclasses

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import cluster_drift, environment_drift, unmanaged
from mlplat.converge.context import EnvContext
from mlplat.converge.findings import Finding
from tasks._runtime import with_run_logger
from tasks._secrets import github_token


@task(name="restore-cluster-objects", task_run_name="restore-cluster-objects[{ctx.env_name}]",
      cache_policy=NO_CACHE)  # fmt: skip
def restore_cluster_objects(ctx: EnvContext, findings: list[Finding]) -> int:
    """Apply the committed manifests of the objects found missing or changed."""
    return cluster_drift.remediate_objects(with_run_logger(ctx), findings)


@task(name="prune-unmanaged", task_run_name="prune-unmanaged[{ctx.env_name}]",
      cache_policy=NO_CACHE)  # fmt: skip
def prune_unmanaged(ctx: EnvContext, findings: list[Finding]) -> int:
    """Delete the unmanaged objects among the findings (node pools, subnetworks, service
    accounts, project IAM members, namespaces, RoleBindings)."""
    return unmanaged.prune(with_run_logger(ctx), findings)


@task(name="observe-environment-drift",
      task_run_name="observe-environment-drift[{ctx.env_name}]", cache_policy=NO_CACHE)  # fmt: skip
def observe_environment_drift(ctx: EnvContext) -> list[Finding]:
    """Every difference of one environment (Google, Git, teams, cluster objects and syncs),
    read in this one task; logs what differs, and how many resources were as specified."""
    logger = get_run_logger()
    unchanged = 0

    def log(line: str) -> None:
        nonlocal unchanged
        if line.endswith(": noop"):
            unchanged += 1
        else:
            logger.info(line)

    ctx = dataclasses.replace(ctx, log=log)
    found = environment_drift.observe_environment(
        ctx, github_token(ctx.platform.gitops.token_secret)
    )
    logger.info("%s: %d resources as specified, %d findings", ctx.env_name, unchanged, len(found))
    return found
