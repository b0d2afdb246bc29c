"""Fleet membership of the cluster, the `configmanagement` feature, and the membership's
Config Sync + Policy Controller spec; ready when the membership is READY."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from mlplat.converge.context import EnvContext, Outcome, report, restarting
from mlplat.errors import ConflictError, OwnershipError, PermanentError
from mlplat.gcp import fleet, projects
from mlplat.gcp.waiting import OperationFailedError, poll
from mlplat.plan import Action, plan
from mlplat.render import fleet as render
from mlplat.render.desired import is_ours

FEATURE = render.CONFIG_MANAGEMENT_FEATURE


def ensure_feature(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """The project's `configmanagement` feature (fleet-wide; memberships get specs later)."""
    desired = render.config_management_feature(ctx.platform, ctx.env, ctx.project)
    observed = None if absent else fleet.get_feature(ctx.target, ctx.project, FEATURE)
    change = plan(desired.kind, desired.name, {}, observed)
    if ctx.dry_run or change.action is Action.NOOP:
        return report(ctx, change, applied=False)
    what = f"fleet/feature {FEATURE}"
    restarting(
        ctx,
        f"{what}: create",
        lambda: _created(
            ctx,
            what,
            create=lambda: fleet.create_feature(
                ctx.target, ctx.project, FEATURE, desired.create_body()
            ),
            fetch=lambda: fleet.get_feature(ctx.target, ctx.project, FEATURE),
            ready=lambda f: _state(f, "resourceState") == "ACTIVE",
        ),
    )
    return report(ctx, change, applied=True)


def _created(
    ctx: EnvContext,
    what: str,
    *,
    create: Callable[[], Any],
    fetch: Callable[[], dict[str, Any] | None],
    ready: Callable[[dict[str, Any]], bool],
) -> None:
    """Create (an earlier run's create, or one meanwhile, is fine: then there is no operation
    of ours to follow) and wait until ready. Hub removes what a failed create made."""
    try:
        operation = create()
    except ConflictError:
        operation = None
    if operation is not None:
        fleet.wait(operation, what=f"{what}: create", deadline=ctx.deadlines.membership)
    found = poll(
        f"{what}: ready",
        fetch,
        lambda r: r is None or ready(r),
        deadline=ctx.deadlines.membership,
    )
    if found is None:
        raise OperationFailedError(f"{what}: gone again after its create", retryable=True)


def ensure_membership(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """Register the cluster in the fleet and wait until the membership is READY."""
    desired = render.membership(ctx.platform, ctx.env, ctx.project)
    observed = None if absent else fleet.get_membership(ctx.target, ctx.project, desired.name)
    if observed is not None and not is_ours(observed.get("labels"), ctx.platform.name):
        raise OwnershipError(f"fleet/membership {desired.name} exists without mlplat's labels")
    change = plan(desired.kind, desired.name, desired.body, observed, immutable=desired.immutable)
    if ctx.dry_run:
        return report(ctx, change, applied=False)
    what = f"fleet/membership {desired.name}"
    fetch = functools.partial(fleet.get_membership, ctx.target, ctx.project, desired.name)
    if change.action is Action.CREATE:
        restarting(
            ctx,
            f"{what}: create",
            lambda: _created(
                ctx,
                what,
                create=lambda: fleet.create_membership(
                    ctx.target, ctx.project, desired.name, desired.create_body()
                ),
                fetch=fetch,
                ready=lambda m: m.get("state", {}).get("code") == "READY",
            ),
        )
    elif change.action is Action.UPDATE:
        fleet.update_membership_labels(
            ctx.target, ctx.project, desired.name, dict(desired.body["labels"])
        )
    poll(
        f"{what}: READY",
        fetch,
        lambda m: m is not None and m.get("state", {}).get("code") == "READY",
        deadline=ctx.deadlines.membership,
    )
    return report(ctx, change, applied=change.action is not Action.NOOP)


def ensure_config_management(ctx: EnvContext, repo_url: str, *, absent: bool = False) -> Outcome:
    """Config Sync (from the env's branch) and Policy Controller for the cluster's membership."""
    desired = render.config_management_spec(ctx.platform, ctx.env, repo_url)
    key = "" if absent else membership_key(ctx)
    feature = None if absent else fleet.get_feature(ctx.target, ctx.project, FEATURE)
    specs: dict[str, Any] = (feature or {}).get("membershipSpecs", {})
    observed = specs.get(key, {}).get("configmanagement") if key in specs else None
    change = plan(desired.kind, desired.name, desired.body, observed)
    if ctx.dry_run or change.action is Action.NOOP:
        return report(ctx, change, applied=False)
    body = {"membershipSpecs": {key: {"configmanagement": dict(desired.body)}}}
    what = f"fleet/feature {FEATURE}: update {desired.name}"

    def update() -> None:  # the same patch again is harmless
        operation = fleet.update_feature(
            ctx.target, ctx.project, FEATURE, body, ["membershipSpecs"]
        )
        fleet.wait(operation, what=what, deadline=ctx.deadlines.membership)

    restarting(ctx, what, update)
    return report(ctx, change, applied=True)


def membership_key(ctx: EnvContext) -> str:
    """`projects/<number>/locations/global/memberships/<id>`, as Hub keys membership specs."""
    number = projects.number(ctx.target, ctx.project)
    if number is None:
        raise PermanentError(f"project {ctx.project} not found")
    membership = render.membership(ctx.platform, ctx.env, ctx.project).name
    return f"projects/{number}/locations/global/memberships/{membership}"


def _state(resource: dict[str, Any], key: str) -> str:
    value = resource.get(key, {})
    return str(value.get("state", "")) if isinstance(value, dict) else ""
