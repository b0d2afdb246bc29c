"""Waiting on long-running work with a deadline: adaptive polling, visible progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from mlplat.errors import PermanentError, TransientError

LOG = logging.getLogger("mlplat.wait")
T = TypeVar("T")

MIN_INTERVAL = 0.05
MAX_INTERVAL = 10.0
OVERSHOOT = 0.02  # poll every 2 % of the time waited so far: at most ~2 % late
# google.rpc.Code of a failed operation that a new attempt may cure: UNKNOWN, DEADLINE_EXCEEDED,
# ABORTED, INTERNAL, UNAVAILABLE (not RESOURCE_EXHAUSTED: a stock-out or quota needs a human).
RETRYABLE_CODES = frozenset({2, 4, 10, 13, 14})
RETRYABLE_HTTP = frozenset({500, 502, 503, 504})  # Compute's httpErrorStatusCode for the same


class OperationFailedError(PermanentError):
    """A long-running operation ended in error. `retryable`: its status says a new attempt may
    succeed (the step observes again and starts over, a bounded number of times)."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def poll(
    what: str,
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    deadline: float,
    progress_every: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Fetch until `done`; past `deadline` seconds raise TransientError (a re-run resumes)."""
    started = time.monotonic()
    last_report = started
    value = fetch()
    if done(value):
        return value
    # DEBUG lines when a wait starts and ends: the mlplat CLI shows what each environment waits
    # on, and for how long.
    LOG.debug("%s: waiting", what)
    try:
        while True:
            now = time.monotonic()
            elapsed = now - started
            if elapsed > deadline:
                raise TransientError(
                    f"{what}: still not done after {elapsed:.0f}s; run again to resume"
                )
            if now - last_report >= progress_every:
                LOG.info("%s: waiting, %.0fs so far", what, elapsed)
                last_report = now
            sleep(min(MAX_INTERVAL, max(MIN_INTERVAL, elapsed * OVERSHOOT)))
            value = fetch()
            if done(value):
                return value
    finally:
        LOG.debug("%s: waited %.1fs", what, time.monotonic() - started)
