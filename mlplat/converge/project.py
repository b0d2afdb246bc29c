"""The environment's project: created (or adopted only when ours), billing linked, APIs on."""

from __future__ import annotations

import time

from mlplat.converge import walk
from mlplat.converge.context import EnvContext, Outcome, report, restarting
from mlplat.errors import OwnershipError, PermanentError
from mlplat.gcp import projects
from mlplat.kinds import catalog
from mlplat.kinds.descriptor import pick
from mlplat.plan import Action, Change, FieldChange
from mlplat.render import project as render
from mlplat.render.desired import Desired, is_ours

ADOPT_GRACE = 30.0  # a crashed run's create may take this long to become visible


def ensure_project(ctx: EnvContext) -> Outcome:
    """Create the project under the platform's parent, or check that the existing one is ours."""
    desired = render.project(ctx.platform, ctx.env)
    observed = projects.get(ctx.target, ctx.project)
    _check_owner(ctx, observed)
    change = catalog.PROJECT.plan(desired, observed)
    if ctx.dry_run or change.action is Action.NOOP:
        return report(ctx, change, applied=False)
    if change.action is Action.CREATE:
        detail = restarting(ctx, f"project {ctx.project}: create", lambda: _create(ctx, desired))
        return report(ctx, change, applied=True, detail=detail)
    fields = [update.field for _, update in walk.update_calls(catalog.PROJECT, change)]
    operation = projects.update(ctx.target, ctx.project, pick(desired.body, fields))
    projects.wait_operation(
        ctx.target, "projects", operation, f"project {ctx.project}: update", ctx.deadlines.project
    )
    return report(ctx, change, applied=True)


def _create(ctx: EnvContext, desired: Desired) -> str:
    """Create the project and wait until it exists; a detail for the summary."""
    try:
        operation = projects.create(ctx.target, desired.create_body())
    except OwnershipError:
        if not _appears_as_ours(ctx):
            raise
        return "created by an earlier run"
    projects.wait_operation(
        ctx.target, "projects", operation, f"project {ctx.project}: create", ctx.deadlines.project
    )
    return ""


def _check_owner(ctx: EnvContext, observed: dict[str, object] | None) -> None:
    if observed is None:
        return
    labels = observed.get("labels")
    if not is_ours(labels if isinstance(labels, dict) else None, ctx.platform.name):
        raise OwnershipError(
            f"project {ctx.project} exists but does not carry mlplat's ownership labels "
            f"(managed-by=mlplat, mlplat-platform={ctx.platform.name}); mlplat never takes over "
            "a project silently: label it to adopt it, or choose another project_id"
        )
    if observed.get("state") not in (None, "ACTIVE"):
        raise PermanentError(
            f"project {ctx.project} is {observed.get('state')}: undelete it, or choose another ID "
            "(deleted project IDs stay reserved)"
        )


def _appears_as_ours(ctx: EnvContext) -> bool:
    """After a 409: is it our own earlier create, still settling?"""
    started = time.monotonic()
    while time.monotonic() - started < ADOPT_GRACE:
        observed = projects.get(ctx.target, ctx.project)
        if observed is not None:
            _check_owner(ctx, observed)
            return True
        time.sleep(1.0)
    return False


def ensure_billing(ctx: EnvContext, *, project_absent: bool = False) -> Outcome:
    """Link the project to the platform's billing account (the generic walk)."""
    return walk.ensure(ctx, render.billing(ctx.platform, ctx.env), absent=project_absent)


def ensure_services(ctx: EnvContext, *, project_absent: bool = False) -> Outcome:
    """Enable every API the platform needs (batched); never disables anything."""
    wanted = set(render.services())
    enabled = set() if project_absent else projects.enabled_services(ctx.target, ctx.project)
    missing = sorted(wanted - enabled)
    kind, name = "project/services", ctx.project
    if not missing:
        return report(ctx, Change(kind, name, Action.NOOP), applied=False)
    fields = tuple(FieldChange(service, "ENABLED", "DISABLED") for service in missing)
    change = Change(kind, name, Action.CREATE if project_absent else Action.UPDATE, fields)
    if ctx.dry_run:
        return report(ctx, change, applied=False)
    what = f"project {ctx.project}: enable APIs"

    def enable() -> None:  # enabling an enabled API again is a no-op
        for operation in projects.enable_services(ctx.target, ctx.project, missing):
            projects.wait_operation(ctx.target, "services", operation, what, ctx.deadlines.services)

    restarting(ctx, what, enable)
    return report(ctx, change, applied=True, detail=f"enabled {len(missing)} APIs")
