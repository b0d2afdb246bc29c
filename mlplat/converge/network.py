"""VPC, subnet, Cloud Router with NAT, and GPU reservations."""

from __future__ import annotations

from typing import Any

from mlplat.converge.context import EnvContext, Outcome, report, restarting
from mlplat.errors import PermanentError
from mlplat.gcp import compute
from mlplat.plan import Action, Change, plan
from mlplat.render import network as render
from mlplat.render.desired import Desired

_KINDS = {
    "compute/network": compute.NETWORK,
    "compute/subnetwork": compute.SUBNETWORK,
    "compute/router": compute.ROUTER,
    "compute/reservation": compute.RESERVATION,
}
# Fields each resource's patch call accepts; a change elsewhere needs a human.
_PATCHABLE = {
    "compute/network": {"routingConfig", "description"},
    "compute/subnetwork": {"secondaryIpRanges", "privateIpGoogleAccess", "description"},
    "compute/router": {"nats", "bgp", "description"},
    "compute/reservation": set(),
}


def ensure_network(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    return _ensure(ctx, render.network(ctx.platform, ctx.env), compute.Where(ctx.project), absent)


def ensure_subnet(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    desired = render.subnet(ctx.platform, ctx.env, ctx.project)
    return _ensure(ctx, desired, compute.Where(ctx.project, region=ctx.region), absent)


def ensure_router(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    desired = render.router(ctx.platform, ctx.env, ctx.project)
    return _ensure(ctx, desired, compute.Where(ctx.project, region=ctx.region), absent)


def ensure_reservations(ctx: EnvContext, *, absent: bool = False) -> list[Outcome]:
    zone = render.reservation_zone(ctx.platform, ctx.env)
    where = compute.Where(ctx.project, zone=zone)
    return [_ensure(ctx, d, where, absent) for d in render.reservations(ctx.platform, ctx.env)]


def _ensure(ctx: EnvContext, desired: Desired, where: compute.Where, absent: bool) -> Outcome:
    """Ownership is proven by the parent: a resource under the spec's name in the
    environment's own project is mlplat's; its ownership note (the description) edited by hand
    is a change like any other, patched back."""
    kind = _KINDS[desired.kind]
    observed = None if absent else compute.get(ctx.target, kind, where, desired.name)
    change = plan(desired.kind, desired.name, desired.body, observed, immutable=desired.immutable)
    if ctx.dry_run or change.action is Action.NOOP:
        return report(ctx, change, applied=False)
    what = f"{desired.kind} {desired.name}"
    if change.action is Action.CREATE:
        _create(ctx, kind, where, desired, what)
        return report(ctx, change, applied=True)
    _patch(ctx, kind, where, desired, change=change, observed=observed or {}, what=what)
    return report(ctx, change, applied=True)


def _create(
    ctx: EnvContext, kind: compute.Kind, where: compute.Where, desired: Desired, what: str
) -> None:
    def once() -> None:
        operation = compute.in_flight(ctx.target, where, desired.name)  # a crashed run's create
        if operation is None:
            try:
                operation = compute.insert(ctx.target, kind, where, desired.create_body())
            except PermanentError as exc:
                if not compute.is_conflict(exc):
                    raise
                operation = compute.in_flight(ctx.target, where, desired.name)
                if operation is None:
                    return  # created meanwhile
        compute.wait(
            ctx.target, where, operation, what=f"{what}: create", deadline=ctx.deadlines.network
        )

    restarting(ctx, f"{what}: create", once)  # a failed insert leaves no resource behind


def _patch(
    ctx: EnvContext,
    kind: compute.Kind,
    where: compute.Where,
    desired: Desired,
    *,
    change: Change,
    observed: dict[str, Any],
    what: str,
) -> None:
    tops = {f.path.split(".", 1)[0] for f in change.fields}
    refused = sorted(tops - _PATCHABLE[desired.kind])
    if refused:
        raise PermanentError(
            f"{what}: {', '.join(refused)} cannot be changed in place; change it by hand or "
            "revert the spec"
        )
    body: dict[str, Any] = {key: desired.body[key] for key in sorted(tops)}
    if "fingerprint" in observed:
        body["fingerprint"] = observed["fingerprint"]
    operation = compute.patch(ctx.target, kind, where, desired.name, body)
    compute.wait(
        ctx.target, where, operation, what=f"{what}: update", deadline=ctx.deadlines.network
    )
