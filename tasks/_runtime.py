"""What every mlplat task shares: no input caching (tasks observe again anyway), a run name
`name[key]`, and the run logger wired into the core's one-line-per-action log."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from mlplat.converge.context import EnvContext

P = ParamSpec("P")
R = TypeVar("R")


def env_task(name: str, key: str = "{ctx.env_name}") -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task named `name`, whose runs are named `name[key]` (`key` formatted from the task's
    parameters), never cached, and whose `ctx` parameter logs to the task's run."""

    def decorate(fn: Callable[P, R]) -> Task[P, R]:
        signature = inspect.signature(fn)
        if "ctx" not in signature.parameters:
            raise TypeError(f"task {name!r}: {fn.__qualname__} takes no `ctx`")
        call: Callable[..., R] = fn

        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            ctx: EnvContext = bound.arguments["ctx"]  # its lines land in the run's log
            bound.arguments["ctx"] = dataclasses.replace(ctx, log=get_run_logger().info)
            return call(*bound.args, **bound.kwargs)

        # Prefect keys the task by this function's name and code, as without the wrapper
        run.__prefect_task_source__ = fn  # type: ignore[attr-defined]
        return task(name=name, task_run_name=f"{name}[{key}]", cache_policy=NO_CACHE)(run)

    return decorate
