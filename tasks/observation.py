"""Task: one environment observed in batch before a provisioning run acts, and what of it is
settled (the run makes task runs only for the rest)."""

from __future__ import annotations

import dataclasses

from prefect import get_run_logger

from mlplat.converge import observation, settled
from mlplat.converge.context import EnvContext
from tasks._runtime import env_task
from tasks._secrets import github_token


@env_task("observe-environment")
def observe_environment(ctx: EnvContext) -> settled.Settled:
    """Every step's dry run in this one task, then the readiness of what plans nothing; logs
    what differs. Nothing is settled when the project does not exist yet (every step creates)
    or is not provably mlplat's (its step says so)."""
    logger = get_run_logger()

    def log(line: str) -> None:
        if not line.endswith(": noop") and ": noop — " not in line:
            logger.info(line)

    live = dataclasses.replace(ctx, log=log)
    token = github_token(ctx.platform.gitops.token_secret)
    seen = observation.observe(dataclasses.replace(live, dry_run=True), token, cold=True)
    if seen is None:
        logger.info("%s: nothing to observe yet; every step runs", ctx.env_name)
        return settled.Settled()
    found = settled.settle(live, seen)
    logger.info(
        "%s: %d resources observed, %d steps settled (no task run)",
        ctx.env_name,
        found.observed,
        len(found.steps),
    )
    return found
