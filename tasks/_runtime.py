"""What every mlplat task shares: no input caching (tasks observe again anyway), the run
logger wired into the core's one-line-per-action log."""

from __future__ import annotations

import dataclasses

from prefect import get_run_logger

from mlplat.converge.context import EnvContext


def with_run_logger(ctx: EnvContext) -> EnvContext:
    """The context, logging to the current Prefect run (so lines land in the server)."""
    logger = get_run_logger()
    return dataclasses.replace(ctx, log=logger.info)
