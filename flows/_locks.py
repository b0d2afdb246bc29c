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
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from prefect import get_run_logger, runtime
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    VariableCreate,
    VariableUpdate,
)
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
# Its own generator: the global one is shared with whatever else runs in the process.
_JITTER = random.Random()
# One slot request (take or give back) at a time from this process: the environments of one
# platform run take and give back their slots together, and on SQLite two writes at once
# make the server answer one of them 503 ("database is locked"), after which Prefect's client
# sleeps 2 s. Measured: twice in a row per 3-environment start, and at the end of a cold run.
# Each write takes a few tens of milliseconds.
_WRITING = threading.Lock()


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
    # A Prefect Variable naming the run that took the slot last, for those who wait. It is not
    # deleted at the end: the next holder overwrites it, and it is read only while the slot is
    # taken. (Deleting it was one more write per run, and a 503 on it cost the run 2 s.)
    return f"{name}-holder"


def _holder(name: str) -> str:
    """Who holds the slot: the run that took it last, as it recorded itself (Prefect does
    not tell)."""
    found: Any = Variable.get(_holder_variable(name), default=None)
    if not isinstance(found, dict):
        return "another run (it did not say which)"
    how = (
        f"run by deployment {found['deployment']!r}"
        if found.get("deployment")
        else "run outside any deployment, e.g. by the mlplat CLI"
    )
    return f"flow run {found['run']!r} ({found['id']}, {how}, holding it since {found['since']})"


def _note_holder(name: str) -> None:
    """Record this run as the slot's holder, in the background: it is only a note for those
    who wait, and must not hold the run up (`Variable.set` makes three requests; a 503 on one
    of them cost a re-run 6 s, measured)."""
    deployment = runtime.deployment.name
    flow = runtime.flow_run.flow_name
    value = {
        "run": str(runtime.flow_run.name),
        "id": str(runtime.flow_run.id),
        "deployment": f"{flow}/{deployment}" if deployment else "",
        "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    threading.Thread(  # in this run's context: its settings name the Prefect API
        target=contextvars.copy_context().run,
        args=(_write_note, _holder_variable(name), value),
        name=f"note-{name}",
        daemon=True,
    ).start()


def _write_note(variable: str, value: dict[str, str], tries: int = 5) -> None:
    for _ in range(tries):
        try:
            with _answers_at_once() as client:
                try:
                    client.update_variable(VariableUpdate(name=variable, value=value))
                except httpx.HTTPStatusError as exc:  # (not ObjectNotFound: update raises this)
                    if exc.response.status_code != 404:
                        raise
                    client.create_variable(VariableCreate(name=variable, value=value))
            return
        except Exception as exc:  # a background note: whatever went wrong, the run goes on
            LOG.debug("%s: %r", variable, exc)
            if not _busy(exc):
                return  # a missing note makes a waiting run say less, nothing worse
        time.sleep(ASK_EVERY_SECONDS * _JITTER.uniform(0.5, 1.5))


def _busy(exc: Exception) -> bool:
    """The server could not answer now (or the slot is taken): worth asking again."""
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code in BUSY
    return isinstance(exc, httpx.TransportError)


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
    except (httpx.HTTPStatusError, httpx.TransportError) as exc:
        if not _busy(exc):
            raise
        LOG.debug("%s: %r, asking again", name, exc)
        return None
    granted = response.json()
    if not granted.get("limits"):
        raise RuntimeError(f"Prefect has no concurrency limit {name!r} to take a slot of")
    return UUID(granted["lease_id"])


def _ask(client: SyncPrefectClient, name: str) -> UUID | None:
    with _WRITING:
        return _try_acquire(client, name)


def _acquire(name: str, timeout: float) -> UUID:
    deadline = time.monotonic() + timeout
    with _answers_at_once() as c:
        while (lease := _ask(c, name)) is None:
            if time.monotonic() >= deadline:
                raise TimeoutError(name)
            time.sleep(ASK_EVERY_SECONDS * _JITTER.uniform(0.5, 1.5))
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
                wait = ASK_EVERY_SECONDS * _JITTER.uniform(1, 2)
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
            with _WRITING, get_client(sync_client=True) as client:
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
        _note_holder(name)
        yield


@contextmanager
def mutating(env: str, *, dry_run: bool) -> Iterator[None]:
    """The environment's lock for a run that changes things; a plan takes none."""
    if dry_run:
        yield
        return
    with environment_lock(env):
        yield
