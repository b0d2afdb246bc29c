"""Tasks: fleet membership, the fleet features, Config Sync and Policy Controller specs."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import fleet
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import with_run_logger


@task(
    name="ensure-fleet-feature",
    task_run_name="ensure-fleet-feature[{feature_id}]",
    cache_policy=NO_CACHE,
)
def ensure_feature(ctx: EnvContext, feature_id: str, absent: bool = False) -> Outcome:
    return fleet.ensure_feature(with_run_logger(ctx), feature_id, absent=absent)


@task(
    name="ensure-membership",
    task_run_name="ensure-membership[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def ensure_membership(ctx: EnvContext, absent: bool = False) -> Outcome:
    return fleet.ensure_membership(with_run_logger(ctx), absent=absent)


@task(
    name="ensure-config-management",
    task_run_name="ensure-config-management[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def ensure_config_management(ctx: EnvContext, repo_url: str, absent: bool = False) -> Outcome:
    return fleet.ensure_config_management(with_run_logger(ctx), repo_url, absent=absent)


@task(
    name="ensure-policy-controller",
    task_run_name="ensure-policy-controller[{ctx.env_name}]",
    cache_policy=NO_CACHE,
)
def ensure_policy_controller(ctx: EnvContext, absent: bool = False) -> Outcome:
    return fleet.ensure_policy_controller(with_run_logger(ctx), absent=absent)
