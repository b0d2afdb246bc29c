"""Holding the environment's lock: take the slot (waiting if need be), record this run as its
holder, renew the lease and the heartbeat while the run works, give the slot back at the end."""

from __future__ import annotations

import contextvars
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from prefect import get_run_logger
from prefect.client.orchestration import SyncPrefectClient

from flows._locks.holder import now, read_holder, this_run, write_holder
from flows._locks.slots import (
    GONE,
    LEASE_SECONDS,
    LOG,
    UnansweredError,
    checked,
    connection,
    give_back,
    keep_trying,
    pause_seconds,
    renew,
)
from flows._locks.waiting import Acquired, Log, acquire
from mlplat.converge.context import EnvContext

LOCK_WAIT_SECONDS = 3600.0
RENEW_EVERY_SECONDS = LEASE_SECONDS / 4  # three more tries before the lease could lapse
HEARTBEAT_SECONDS = 15.0  # the holder refreshes its record this often


def lock_name(ctx: EnvContext) -> str:
    """The lock of this environment of this platform on this target: the environment's name
    to read, and a digest of the platform, its project and the target (a sandbox by its admin
    URL), so that two platforms, or two sandboxes, never share one."""
    target = f"{ctx.target.name}|{ctx.target.admin_url or ''}"
    identity = f"{ctx.platform.name}|{ctx.project}|{target}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return f"mlplat-{ctx.platform.name}-{ctx.env_name}-{digest}"


# -- holding it --------------------------------------------------------------------------------


@dataclass
class _Held:
    name: str
    lease: UUID
    record: dict[str, Any]
    log: Log
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False  # the server no longer knows the lease (it restarted)

    def keep(self) -> None:
        """Renew the lease and refresh the record's heartbeat until `stop`; each retried every
        second or two while the server is busy or away."""
        renewed = beat = time.monotonic()
        with connection() as client:
            wait = min(RENEW_EVERY_SECONDS, HEARTBEAT_SECONDS)
            while not self.stop.wait(wait):
                wait = min(RENEW_EVERY_SECONDS, HEARTBEAT_SECONDS)
                at = time.monotonic()
                try:
                    if not self.lost and at - renewed >= RENEW_EVERY_SECONDS * 0.9:
                        self._renew(client)
                        renewed = time.monotonic()
                    if at - beat >= HEARTBEAT_SECONDS * 0.9:
                        self.record["seen"] = now()
                        write_holder(client, self.name, self.record)
                        beat = time.monotonic()
                except (UnansweredError, httpx.HTTPError) as exc:
                    LOG.debug("%s: %r", self.name, exc)
                    wait = pause_seconds()

    def _renew(self, client: SyncPrefectClient) -> None:
        response = renew(client, str(self.lease))
        if response.status_code == GONE:
            self.lost = True
            self.log.warning(
                "the Prefect server no longer knows this run's lease on %s (it restarted?): "
                "this run keeps the lock, its record shows it alive, and it frees the slot "
                "when it ends",
                self.name,
            )
            return
        checked(response)

    def release(self) -> None:
        """Give the slot back: through the lease, or (lease lost) by decrementing the limit
        if the record still names this run."""
        with connection() as client:

            def attempt() -> None:
                if not self.lost:
                    self._renew(client)  # learns whether the server still knows the lease
                if not self.lost:
                    give_back(client, self.name, str(self.lease))
                    return
                holder = read_holder(client, self.name)
                if holder is None or holder.lease == str(self.lease):
                    give_back(client, self.name, None)

            try:
                if keep_trying(f"release {self.name}", attempt, LEASE_SECONDS / 2):
                    return
                problem = "the Prefect server did not answer"
            except httpx.HTTPError as exc:
                problem = str(exc)
            self.log.warning(
                "could not release %s (%s): a waiting run frees it once it finds this run gone",
                self.name,
                problem,
            )


@contextmanager
def _slot(name: str, env: str, timeout: float, log: Log) -> Iterator[Acquired]:
    acquired = acquire(name, env, timeout, log)
    held = _Held(name, acquired.lease, this_run(acquired.lease), log)
    with connection() as client:  # before anything else: waiters read it
        written = keep_trying(f"record {name}", lambda: write_holder(client, name, held.record), 10)
    if not written:
        log.warning("could not record this run as the holder of %s; retrying meanwhile", name)
    keeper = threading.Thread(  # in this run's context: its settings name the Prefect API
        target=contextvars.copy_context().run,
        args=(held.keep,),
        name=f"lease-{name}",
        daemon=True,
    )
    keeper.start()
    try:
        yield acquired
    finally:
        held.stop.set()
        keeper.join()
        held.release()


@contextmanager
def environment_lock(ctx: EnvContext, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the environment's slot; another mutating run waits (and says who holds it, every
    minute) up to `timeout`."""
    name = lock_name(ctx)
    logger = get_run_logger()
    with ExitStack() as held:
        try:
            acquired = held.enter_context(_slot(name, ctx.env_name, timeout, logger))
        except TimeoutError as exc:  # only waiting for the slot: the run's own errors pass
            raise TimeoutError(
                f"another mutating run of environment {ctx.env_name!r} held {name} for over "
                f"{timeout:.0f}s; try again when it has finished"
            ) from exc
        if acquired.watch is not None:
            logger.info(
                "acquired %s after %.1fs: waited for another run of %r to finish",
                name,
                acquired.waited,
                ctx.env_name,
            )
        else:
            logger.info("acquired %s in %.0f ms (it was free)", name, acquired.waited * 1000)
        yield


@contextmanager
def mutating(ctx: EnvContext) -> Iterator[None]:
    """The environment's lock for a run that changes things; a plan (dry run) takes none."""
    if ctx.dry_run:
        yield
        return
    with environment_lock(ctx):
        yield
