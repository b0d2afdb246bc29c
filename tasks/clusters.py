"""Tasks: the private GKE cluster and its node pools."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import cluster
from mlplat.converge.context import EnvContext, Outcome
from mlplat.render.desired import Desired
from tasks._runtime import with_run_logger


@task(name="ensure-cluster", task_run_name="ensure-cluster[{ctx.env_name}]", cache_policy=NO_CACHE)
def ensure_cluster(ctx: EnvContext, absent: bool = False) -> Outcome:
    return cluster.ensure_cluster(with_run_logger(ctx), absent=absent)


@task(
    name="ensure-node-pool",
    task_run_name="ensure-node-pool[{ctx.env_name}/{pool.name}]",
    cache_policy=NO_CACHE,
)
def ensure_node_pool(ctx: EnvContext, pool: Desired, absent: bool = False) -> Outcome:
    return cluster.ensure_node_pool(with_run_logger(ctx), pool, absent=absent)
