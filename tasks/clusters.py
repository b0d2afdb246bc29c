"""Tasks: the private GKE cluster and its node pools."""

from __future__ import annotations

from mlplat.converge import cluster
from mlplat.converge.context import EnvContext, Outcome
from mlplat.render.desired import Desired
from tasks._runtime import env_task


@env_task("ensure-cluster")
def ensure_cluster(ctx: EnvContext, absent: bool = False) -> Outcome:
    return cluster.ensure_cluster(ctx, absent=absent)


@env_task("ensure-node-pool", "{ctx.env_name}/{pool.name}")
def ensure_node_pool(ctx: EnvContext, pool: Desired, absent: bool = False) -> Outcome:
    return cluster.ensure_node_pool(ctx, pool, absent=absent)
