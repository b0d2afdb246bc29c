"""Tasks: fleet membership, the fleet features, Config Sync and Policy Controller specs."""

from __future__ import annotations

from mlplat.converge import fleet
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import env_task


@env_task("ensure-fleet-feature", "{feature_id}")
def ensure_feature(ctx: EnvContext, feature_id: str, absent: bool = False) -> Outcome:
    return fleet.ensure_feature(ctx, feature_id, absent=absent)


@env_task("ensure-membership")
def ensure_membership(ctx: EnvContext, absent: bool = False) -> Outcome:
    return fleet.ensure_membership(ctx, absent=absent)


@env_task("ensure-config-management")
def ensure_config_management(ctx: EnvContext, repo_url: str, absent: bool = False) -> Outcome:
    return fleet.ensure_config_management(ctx, repo_url, absent=absent)


@env_task("ensure-policy-controller")
def ensure_policy_controller(ctx: EnvContext, absent: bool = False) -> Outcome:
    return fleet.ensure_policy_controller(ctx, absent=absent)
