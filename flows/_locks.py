"""One mutating run per environment at a time, whoever starts it (CLI, deployment, schedule):
a Prefect global concurrency limit named after the environment, created on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectNotFound

LOCK_WAIT_SECONDS = 3600.0
LEASE_SECONDS = 60.0  # the minimum Prefect accepts; a crashed run's slot frees after this


def lock_name(env: str) -> str:
    return f"mlplat-env-{env}"


def _ensure_limit(name: str) -> None:
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))


@contextmanager
def environment_lock(env: str, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the environment's slot; another mutating run waits (and says so) up to `timeout`."""
    name = lock_name(env)
    _ensure_limit(name)
    get_run_logger().info("acquiring %s (one mutating run per environment)", name)
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
        yield


@contextmanager
def mutating(env: str, *, dry_run: bool) -> Iterator[None]:
    """The environment's lock for a run that changes things; a plan takes none."""
    if dry_run:
        yield
        return
    with environment_lock(env):
        yield
