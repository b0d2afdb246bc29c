"""One mutating run per environment at a time, whoever starts it (CLI, deployment, schedule):
a Prefect global concurrency limit named after the environment, created on first use."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from prefect import get_run_logger, runtime
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound
from prefect.variables import Variable

LOCK_WAIT_SECONDS = 3600.0
LEASE_SECONDS = 60.0  # the minimum Prefect accepts; a crashed run's slot frees after this


def lock_name(env: str) -> str:
    return f"mlplat-env-{env}"


def _ensure_limit(name: str) -> bool:
    """Create the limit when missing; whether its slot is taken right now."""
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
            return False
        return bool(limit.active_slots >= limit.limit)


def _holder_variable(name: str) -> str:
    return f"{name}-holder"  # a Prefect Variable: who holds the slot, for those who wait


def _holder(name: str) -> str:
    """Who holds the slot, as its holder recorded it (Prefect does not tell)."""
    found: Any = Variable.get(_holder_variable(name), default=None)
    if not isinstance(found, dict):
        return "another run (it did not say which)"
    how = (
        f"run by deployment {found['deployment']!r}"
        if found.get("deployment")
        else "run outside any deployment, e.g. by the mlplat CLI"
    )
    return f"flow run {found['run']!r} ({found['id']}, {how}, holding it since {found['since']})"


def _record_holder(name: str) -> None:
    deployment = runtime.deployment.name
    flow = runtime.flow_run.flow_name
    value = {
        "run": str(runtime.flow_run.name),
        "id": str(runtime.flow_run.id),
        "deployment": f"{flow}/{deployment}" if deployment else "",
        "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    Variable.set(_holder_variable(name), value, overwrite=True)


@contextmanager
def environment_lock(env: str, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the environment's slot; another mutating run waits (and says so) up to `timeout`."""
    name = lock_name(env)
    logger = get_run_logger()
    taken = _ensure_limit(name)
    logger.info("acquiring %s (one mutating run per environment)", name)
    if taken:
        logger.warning(
            "waiting for lock %s: environment %r is being changed by %s; waiting up to %.0fs",
            name,
            env,
            _holder(name),
            timeout,
        )
    started = time.monotonic()
    with ExitStack() as held:
        try:
            held.enter_context(
                concurrency(
                    name,
                    occupy=1,
                    timeout_seconds=timeout,
                    lease_duration=LEASE_SECONDS,
                    strict=True,
                )
            )
        except TimeoutError as exc:  # only waiting for the slot: the run's own errors pass
            raise TimeoutError(
                f"another mutating run of environment {env!r} held {name} for over "
                f"{timeout:.0f}s; try again when it has finished"
            ) from exc
        waited = time.monotonic() - started
        if taken or waited > 1:  # (a run that took it between the check and now: no warning)
            logger.info(
                "acquired %s after waiting %.1fs for the other run of %r to finish",
                name,
                waited,
                env,
            )
        _record_holder(name)
        try:
            yield
        finally:
            with suppress(Exception):  # only a note for those who wait
                Variable.unset(_holder_variable(name))


@contextmanager
def mutating(env: str, *, dry_run: bool) -> Iterator[None]:
    """The environment's lock for a run that changes things; a plan takes none."""
    if dry_run:
        yield
        return
    with environment_lock(env):
        yield
