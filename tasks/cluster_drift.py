"""Tasks: an environment's drift, putting committed objects back into its cluster, and pruning
the unmanaged objects found in what it owns."""

from __future__ import annotations

import dataclasses

from prefect import get_run_logger

from mlplat.converge import cluster_drift, environment_drift, unmanaged
from mlplat.converge.context import EnvContext
from mlplat.converge.findings import Finding
from tasks._runtime import env_task
from tasks._secrets import github_token


@env_task("restore-cluster-objects")
def restore_cluster_objects(ctx: EnvContext, findings: list[Finding]) -> int:
    """Apply the committed manifests of the objects found missing or changed."""
    return cluster_drift.remediate_objects(ctx, findings)


@env_task("prune-unmanaged")
def prune_unmanaged(ctx: EnvContext, findings: list[Finding]) -> int:
    """Delete the unmanaged objects among the findings (node pools, subnetworks, service
    accounts, project IAM members, namespaces, RoleBindings)."""
    return unmanaged.prune(ctx, findings)


@env_task("observe-environment-drift")
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
