"""Tasks: the environment's project, billing link and APIs."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import project
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import with_run_logger


@task(name="ensure-project", task_run_name="ensure-project[{ctx.project}]", cache_policy=NO_CACHE)
def ensure_project(ctx: EnvContext) -> Outcome:
    return project.ensure_project(with_run_logger(ctx))


@task(name="ensure-billing", task_run_name="ensure-billing[{ctx.project}]", cache_policy=NO_CACHE)
def ensure_billing(ctx: EnvContext, absent: bool = False) -> Outcome:
    return project.ensure_billing(with_run_logger(ctx), project_absent=absent)


@task(name="ensure-apis", task_run_name="ensure-apis[{ctx.project}]", cache_policy=NO_CACHE)
def ensure_services(ctx: EnvContext, absent: bool = False) -> Outcome:
    return project.ensure_services(with_run_logger(ctx), project_absent=absent)
