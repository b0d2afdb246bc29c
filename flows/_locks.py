"""One mutating run per environment at a time, whoever starts it (CLI, deployment, schedule):
a Prefect global concurrency limit named after the environment, created on first use, whose
one slot a run holds under a lease it renews.

Acquired here rather than with `prefect.concurrency.sync.concurrency`: under load, Prefect's
server on SQLite answers a slot request 503 ("database is locked") now and then, and Prefect's
client backs off exponentially (2, 4, 8, 16, 32 s) and then fails the run. Measured in a
10 environments × 20 teams re-run: free locks acquired after 2–79 s, and one run failed. A
waiting run here asks again every second or so until its timeout, whatever the answer."""

from __future__ import annotations

import contextvars
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from prefect import get_run_logger, runtime
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings
from prefect.variables import Variable

LOCK_WAIT_SECONDS = 3600.0
LEASE_SECONDS = 60.0  # the minimum Prefect accepts; a crashed run's slot frees after this
ASK_EVERY_SECONDS = 1.0  # a waiting run asks this often (±50 %) whether the slot is free
RENEW_EVERY_SECONDS = LEASE_SECONDS / 4  # three more tries before the lease could lapse
LOG = logging.getLogger("mlplat.lock")
Log = logging.Logger | logging.LoggerAdapter[Any]
BUSY = {423, 429, 502, 503, 504}  # taken, or the server too busy to say: ask again


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
def _answers_at_once() -> Iterator[SyncPrefectClient]:
    """A client that does not retry: its exponential backoff is what made free locks take a
    minute. The callers ask again at their own pace. (It still sleeps 2 s after a 503 before
    returning it: Prefect's retry loop sleeps once even when no retry is allowed.)"""
    with temporary_settings({PREFECT_CLIENT_MAX_RETRIES: 0}), get_client(sync_client=True) as c:
        yield c


def _try_acquire(client: SyncPrefectClient, name: str) -> UUID | None:
    """The lease on the slot, or None while it is taken or the server cannot say."""
    try:
        response = client.increment_concurrency_slots_with_lease(
            names=[name], slots=1, mode="concurrency", lease_duration=LEASE_SECONDS
        )
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code in BUSY:
            LOG.debug("%s: %s, asking again", name, exc.response.status_code)
            return None
        raise
    except httpx.TransportError as exc:
        LOG.debug("%s: %r, asking again", name, exc)
        return None
    granted = response.json()
    if not granted.get("limits"):
        raise RuntimeError(f"Prefect has no concurrency limit {name!r} to take a slot of")
    return UUID(granted["lease_id"])


_ASKING = threading.Lock()


def _ask(client: SyncPrefectClient, name: str) -> UUID | None:
    """One request at a time from this process: the environments of one platform run ask for
    their slots together, and on SQLite two such writes at once make the server answer one of
    them 503 after ~2 s ("database is locked"; measured: twice in a row per 3-environment
    start). Each request takes a few tens of milliseconds."""
    with _ASKING:
        return _try_acquire(client, name)


def _acquire(name: str, timeout: float) -> UUID:
    deadline = time.monotonic() + timeout
    with _answers_at_once() as c:
        while (lease := _ask(c, name)) is None:
            if time.monotonic() >= deadline:
                raise TimeoutError(name)
            time.sleep(ASK_EVERY_SECONDS * random.uniform(0.5, 1.5))
    return lease


def _keep_renewed(lease: UUID, name: str, stop: threading.Event, log: Log) -> None:
    """Renew the lease until `stop`; retried every second or two while the server is busy."""
    renewed = time.monotonic()
    with _answers_at_once() as client:
        wait = RENEW_EVERY_SECONDS
        while not stop.wait(wait):
            try:
                client.renew_concurrency_lease(lease_id=lease, lease_duration=LEASE_SECONDS)
            except Exception as exc:
                if time.monotonic() - renewed > LEASE_SECONDS:
                    log.error(
                        "lost %s: its lease could not be renewed for %.0fs (%s); another "
                        "run of this environment may start",
                        name,
                        LEASE_SECONDS,
                        exc,
                    )
                    return
                wait = ASK_EVERY_SECONDS * random.uniform(1, 2)
                continue
            renewed, wait = time.monotonic(), RENEW_EVERY_SECONDS


@contextmanager
def _slot(name: str, timeout: float, log: Log) -> Iterator[None]:
    lease = _acquire(name, timeout)
    stop = threading.Event()
    renewal = threading.Thread(  # in this run's context: its settings name the Prefect API
        target=contextvars.copy_context().run,
        args=(_keep_renewed, lease, name, stop, log),
        name=f"lease-{name}",
        daemon=True,
    )
    renewal.start()
    try:
        yield
    finally:
        stop.set()
        renewal.join()
        try:
            with get_client(sync_client=True) as client:
                client.release_concurrency_slots_with_lease(lease)
        except Exception as exc:
            log.warning(
                "could not release %s (%s): it frees within %.0fs", name, exc, LEASE_SECONDS
            )


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
            held.enter_context(_slot(name, timeout, logger))
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
            with suppress(Exception), get_client(sync_client=True) as client:
                # only a note for those who wait; `Variable.unset` in a flow run took 2.3 s
                client.delete_variable_by_name(_holder_variable(name))


@contextmanager
def mutating(env: str, *, dry_run: bool) -> Iterator[None]:
    """The environment's lock for a run that changes things; a plan takes none."""
    if dry_run:
        yield
        return
    with environment_lock(env):
        yield
