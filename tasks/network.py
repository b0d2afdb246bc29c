"""Tasks: VPC, subnet, router with NAT, GPU reservations."""

from __future__ import annotations

from mlplat.converge import network
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import env_task


@env_task("ensure-network")
def ensure_network(ctx: EnvContext, absent: bool = False) -> Outcome:
    return network.ensure_network(ctx, absent=absent)


@env_task("ensure-subnet")
def ensure_subnet(ctx: EnvContext, absent: bool = False) -> Outcome:
    return network.ensure_subnet(ctx, absent=absent)


@env_task("ensure-router")
def ensure_router(ctx: EnvContext, absent: bool = False) -> Outcome:
    return network.ensure_router(ctx, absent=absent)


@env_task("ensure-reservations")
def ensure_reservations(ctx: EnvContext, absent: bool = False) -> list[Outcome]:
    return network.ensure_reservations(ctx, absent=absent)
