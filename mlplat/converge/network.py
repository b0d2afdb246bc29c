"""VPC, subnet, Cloud Router with NAT, and GPU reservations: the generic walk over their
descriptors (`mlplat.kinds.catalog`) and Compute bindings.

Ownership is proven by the parent: a resource under the spec's name in the environment's own
project is mlplat's; its ownership note (the description) edited by hand is a change like any
other, patched back."""

from __future__ import annotations

from mlplat.converge import walk
from mlplat.converge.context import EnvContext, Outcome
from mlplat.render import network as render

KINDS = ("compute/network", "compute/reservation", "compute/subnetwork", "compute/router")


def ensure_network(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    return walk.ensure(ctx, render.network(ctx.platform, ctx.env), absent=absent)


def ensure_subnet(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    return walk.ensure(ctx, render.subnet(ctx.platform, ctx.env, ctx.project), absent=absent)


def ensure_router(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    return walk.ensure(ctx, render.router(ctx.platform, ctx.env, ctx.project), absent=absent)


def ensure_reservations(ctx: EnvContext, *, absent: bool = False) -> list[Outcome]:
    return walk.ensure_kind(ctx, "compute/reservation", absent=absent)
