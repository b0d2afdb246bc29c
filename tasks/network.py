"""Tasks: VPC, subnet, router with NAT, GPU reservations."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import network
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import with_run_logger


@task(name="ensure-network", task_run_name="ensure-network[{ctx.env_name}]", cache_policy=NO_CACHE)
def ensure_network(ctx: EnvContext, absent: bool = False) -> Outcome:
    return network.ensure_network(with_run_logger(ctx), absent=absent)


@task(name="ensure-subnet", task_run_name="ensure-subnet[{ctx.env_name}]", cache_policy=NO_CACHE)
def ensure_subnet(ctx: EnvContext, absent: bool = False) -> Outcome:
    return network.ensure_subnet(with_run_logger(ctx), absent=absent)


@task(name="ensure-router", task_run_name="ensure-router[{ctx.env_name}]", cache_policy=NO_CACHE)
def ensure_router(ctx: EnvContext, absent: bool = False) -> Outcome:
    return network.ensure_router(with_run_logger(ctx), absent=absent)


@task(
    name="ensure-reservations",
    task_run_name="ensure-reservations[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def ensure_reservations(ctx: EnvContext, absent: bool = False) -> list[Outcome]:
    return network.ensure_reservations(with_run_logger(ctx), absent=absent)
