"""Tasks: the environment's project, billing link and APIs."""

from __future__ import annotations

from mlplat.converge import project
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import env_task


@env_task("ensure-project", "{ctx.project}")
def ensure_project(ctx: EnvContext) -> Outcome:
    return project.ensure_project(ctx)


@env_task("ensure-billing", "{ctx.project}")
def ensure_billing(ctx: EnvContext, absent: bool = False) -> Outcome:
    return project.ensure_billing(ctx, project_absent=absent)


@env_task("ensure-apis", "{ctx.project}")
def ensure_services(ctx: EnvContext, absent: bool = False) -> Outcome:
    return project.ensure_services(ctx, project_absent=absent)
