"""Task: the clusters' minimal node service account."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import identity
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import with_run_logger


@task(
    name="ensure-node-identity",
    task_run_name="ensure-node-identity[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def ensure_node_service_account(ctx: EnvContext, absent: bool = False) -> Outcome:
    return identity.ensure_node_service_account(with_run_logger(ctx), absent=absent)
