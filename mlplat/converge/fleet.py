"""Fleet membership of the cluster, the `configmanagement` feature, and the membership's
Config Sync + Policy Controller spec; ready when the membership is READY."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import ConflictError, OwnershipError, PermanentError
from mlplat.gcp import fleet, projects
from mlplat.gcp.waiting import poll
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
    with suppress(ConflictError):  # enabled meanwhile, or by an earlier run
        fleet.create_feature(ctx.target, ctx.project, FEATURE, desired.create_body())
    poll(
        f"fleet/feature {FEATURE}: ACTIVE",
        lambda: fleet.get_feature(ctx.target, ctx.project, FEATURE),
        lambda f: f is not None and _state(f, "resourceState") == "ACTIVE",
        deadline=ctx.deadlines.membership,
    )
    return report(ctx, change, applied=True)


def ensure_membership(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """Register the cluster in the fleet and wait until the membership is READY."""
    desired = render.membership(ctx.platform, ctx.env, ctx.project)
    observed = None if absent else fleet.get_membership(ctx.target, ctx.project, desired.name)
    if observed is not None and not is_ours(observed.get("labels"), ctx.platform.name):
        raise OwnershipError(f"fleet/membership {desired.name} exists without mlplat's labels")
    change = plan(desired.kind, desired.name, desired.body, observed, immutable=desired.immutable)
    if ctx.dry_run:
        return report(ctx, change, applied=False)
    if change.action is Action.CREATE:
        with suppress(ConflictError):  # an earlier run's registration: waited on below
            fleet.create_membership(ctx.target, ctx.project, desired.name, desired.create_body())
    elif change.action is Action.UPDATE:
        fleet.update_membership_labels(
            ctx.target, ctx.project, desired.name, dict(desired.body["labels"])
        )
    poll(
        f"fleet/membership {desired.name}: READY",
        lambda: fleet.get_membership(ctx.target, ctx.project, desired.name),
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
    fleet.update_feature(ctx.target, ctx.project, FEATURE, body, ["membershipSpecs"])
    return report(ctx, change, applied=True)


def membership_key(ctx: EnvContext) -> str:
    """`projects/<number>/locations/global/memberships/<id>`, as Hub keys membership specs."""
    project = projects.get(ctx.target, ctx.project)
    if project is None:
        raise PermanentError(f"project {ctx.project} not found")
    number = str(project["name"]).split("/", 1)[1]
    membership = render.membership(ctx.platform, ctx.env, ctx.project).name
    return f"projects/{number}/locations/global/memberships/{membership}"


def _state(resource: dict[str, Any], key: str) -> str:
    value = resource.get(key, {})
    return str(value.get("state", "")) if isinstance(value, dict) else ""
