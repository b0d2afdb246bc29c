"""Task: the clusters' minimal node service account."""

from __future__ import annotations

from mlplat.converge import identity
from mlplat.converge.context import EnvContext, Outcome
from tasks._runtime import env_task


@env_task("ensure-node-identity")
def ensure_node_service_account(ctx: EnvContext, absent: bool = False) -> Outcome:
    return identity.ensure_node_service_account(ctx, absent=absent)
