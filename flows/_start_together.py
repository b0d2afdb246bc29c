"""The environments of one platform run start their work together.

Prefect's server creates a subflow run only after it has taken in the events already sent by
the runs working beside it: measured here, the third environment of three began 2 to 14 s after
the first. So provision-platform lets every environment's run be created before any of them
starts calling clouds: the slowest environment, which bounds the whole run, no longer starts
last by that much."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

WAIT_AT_MOST = 60.0  # seconds: past this, a run starts without its siblings

_BARRIER: ContextVar[threading.Barrier | None] = ContextVar("mlplat_start_together", default=None)


@contextmanager
def starting_together(runs: int) -> Iterator[threading.Barrier | None]:
    """Within this block (and threads started from a copy of its context), `runs` calls of
    `wait_for_siblings` return together; the barrier is yielded so a run that fails before
    reaching it can release the others (`abort`)."""
    barrier = threading.Barrier(runs) if runs > 1 else None
    token = _BARRIER.set(barrier)
    try:
        yield barrier
    finally:
        _BARRIER.reset(token)


def wait_for_siblings() -> None:
    """Return when every run started together has reached this point (at once outside
    `starting_together`; after WAIT_AT_MOST at worst)."""
    barrier = _BARRIER.get()
    if barrier is not None:
        with suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=WAIT_AT_MOST)
