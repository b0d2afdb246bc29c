"""Fleet membership of the cluster; the `configmanagement` and `policycontroller` features and
the membership's specs in them (Config Sync; Policy Controller, ready when ACTIVE)."""

from __future__ import annotations

import functools
from typing import Any

from mlplat.converge import walk
from mlplat.converge.bindings import created_then_ready
from mlplat.converge.context import EnvContext, Outcome, membership_key, report, restarting
from mlplat.gcp import fleet
from mlplat.gcp.waiting import poll
from mlplat.kinds import catalog
from mlplat.plan import Action, Change, FieldChange
from mlplat.render import fleet as render

CONFIG_MANAGEMENT = render.CONFIG_MANAGEMENT_FEATURE
POLICY_CONTROLLER = render.POLICY_CONTROLLER_FEATURE


def ensure_feature(ctx: EnvContext, feature_id: str, *, absent: bool = False) -> Outcome:
    """A fleet-wide feature of the project (`configmanagement`, `policycontroller`);
    memberships get their specs later (the generic walk: only its existence is compared)."""
    return walk.ensure(ctx, render.feature(ctx.platform, ctx.project, feature_id), absent=absent)


def ensure_membership(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """Register the cluster in the fleet and wait until the membership is READY. A membership
    under the spec's name in the environment's own project is mlplat's (its labels edited by
    hand are a change, put back here)."""
    desired = render.membership(ctx.platform, ctx.env, ctx.project)
    observed = None if absent else fleet.get_membership(ctx.target, ctx.project, desired.name)
    change = catalog.MEMBERSHIP.plan(desired, observed)
    if ctx.dry_run:
        return report(ctx, change, applied=False)
    what = f"fleet/membership {desired.name}"
    fetch = functools.partial(fleet.get_membership, ctx.target, ctx.project, desired.name)
    if change.action is Action.CREATE:
        created_then_ready(
            ctx,
            what,
            create=lambda: fleet.create_membership(
                ctx.target, ctx.project, desired.name, desired.create_body()
            ),
            wait=lambda operation: fleet.wait(
                operation, what=f"{what}: create", deadline=ctx.deadlines.membership
            ),
            fetch=fetch,
            ready=lambda m: m.get("state", {}).get("code") == "READY",
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


def _spec_of(feature: dict[str, Any] | None, key: str, feature_id: str) -> dict[str, Any] | None:
    """The membership's spec in a feature, None when it has none."""
    specs: dict[str, Any] = (feature or {}).get("membershipSpecs", {})
    return specs[key].get(feature_id) if key in specs else None


def _policy_state(feature: dict[str, Any] | None, key: str) -> str:
    """The membership's Policy Controller lifecycle state (ACTIVE, INSTALLING…)."""
    states: dict[str, Any] = (feature or {}).get("membershipStates", {})
    return str((states.get(key) or {}).get("policycontroller", {}).get("state", ""))


def _patch_spec(ctx: EnvContext, feature_id: str, key: str, name: str, spec: Any) -> None:
    """Set one membership's spec in a feature and wait for Hub's operation (the same patch
    again is harmless, so a retried or resumed run may send it twice)."""
    body = {"membershipSpecs": {key: {feature_id: dict(spec)}}}
    what = f"fleet/feature {feature_id}: update {name}"

    def update() -> None:
        operation = fleet.update_feature(
            ctx.target, ctx.project, feature_id, body, ["membershipSpecs"]
        )
        fleet.wait_feature(ctx.target, operation, what=what, deadline=ctx.deadlines.membership)

    restarting(ctx, what, update)


def wait_policy_active(ctx: EnvContext, key: str, found: dict[str, Any] | None = None) -> None:
    """Wait until Hub reports the membership's Policy Controller ACTIVE (`found`: the feature
    as just read, saving a read when it is ACTIVE already)."""
    if found is not None and _policy_state(found, key) == "ACTIVE":
        return
    poll(
        f"fleet/policycontroller {key.rsplit('/', 1)[-1]}: ACTIVE",
        lambda: fleet.get_feature(ctx.target, ctx.project, POLICY_CONTROLLER),
        lambda feature: _policy_state(feature, key) == "ACTIVE",
        deadline=ctx.deadlines.membership,
    )


def ensure_policy_controller(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """Policy Controller for the cluster's membership through the `policycontroller` feature;
    ready when Hub reports it ACTIVE (not waited on when the spec turns it off)."""
    desired = render.policy_controller_spec(ctx.platform, ctx.env)
    key = "" if absent else membership_key(ctx)
    feature = None if absent else fleet.get_feature(ctx.target, ctx.project, POLICY_CONTROLLER)
    change = catalog.POLICY_CONTROLLER.plan(desired, _spec_of(feature, key, "policycontroller"))
    if ctx.dry_run:
        return report(ctx, change, applied=False)
    if change.action is not Action.NOOP:
        _patch_spec(ctx, POLICY_CONTROLLER, key, desired.name, desired.body)
        feature = None
    if not ctx.env.policy_controller.enabled:
        return report(ctx, change, applied=change.action is not Action.NOOP)
    wait_policy_active(ctx, key, feature)
    return report(ctx, change, applied=change.action is not Action.NOOP, detail="ACTIVE")


def _legacy_policy(observed: dict[str, Any] | None) -> FieldChange | None:
    """Policy Controller still configured inside `configmanagement` (the shape before 1.21):
    a field mlplat no longer declares, so the left-scoped plan would not see it."""
    legacy = (observed or {}).get(render.LEGACY_POLICY_CONTROLLER)
    if not legacy:
        return None
    return FieldChange(render.LEGACY_POLICY_CONTROLLER, None, legacy)


def ensure_config_management(ctx: EnvContext, repo_url: str, *, absent: bool = False) -> Outcome:
    """Config Sync (from the env's branch) for the cluster's membership. An environment built
    before Policy Controller had its own API migrates: its `policycontroller` spec is ACTIVE
    first, and only then does `policyController` leave this spec, so enforcement never stops."""
    desired = render.config_management_spec(ctx.platform, ctx.env, repo_url)
    key = "" if absent else membership_key(ctx)
    feature = None if absent else fleet.get_feature(ctx.target, ctx.project, CONFIG_MANAGEMENT)
    observed = _spec_of(feature, key, "configmanagement")
    change = catalog.CONFIG_SYNC.plan(desired, observed)
    legacy = _legacy_policy(observed)
    if legacy is not None:
        change = Change(
            change.kind, change.name, Action.UPDATE, (*change.fields, legacy), change.desired
        )
    if ctx.dry_run or change.action is Action.NOOP:
        return report(ctx, change, applied=False)
    if legacy is not None and ctx.env.policy_controller.enabled:
        ctx.log(
            f"{change.kind} {change.name}: Policy Controller moves to its own fleet feature; "
            "waiting until it is ACTIVE there before removing it here"
        )
        wait_policy_active(ctx, key)
    _patch_spec(ctx, CONFIG_MANAGEMENT, key, desired.name, desired.body)
    return report(ctx, change, applied=True)
