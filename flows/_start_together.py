"""The environments of one platform run are created one at a time, then start their work together.

Created one at a time: Prefect's server on SQLite refuses one of two writes that meet with a
503 ("database is locked") and Prefect's client then sleeps 2 s before it asks again. Measured
here: of three environments' subflow runs created at once, two were refused, so the second
and third started 2 s (cold) and up to 7 s (under load) after the first. One after the other,
each takes a few tenths of a second.

Together: the slowest environment bounds the whole run, so none starts calling clouds before
every environment's run exists."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TypeVar

WAIT_AT_MOST = 60.0  # seconds: past this, a run is created or starts without its siblings
T = TypeVar("T")


@dataclass
class _Group:
    barrier: threading.Barrier
    creating: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Turn:
    """One run's turn at being created, given back once (when its run exists, or it ends)."""

    creating: threading.Lock
    held: bool = False

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.creating.release()


_GROUP: ContextVar[_Group | None] = ContextVar("mlplat_start_together", default=None)
_TURN: ContextVar[_Turn | None] = ContextVar("mlplat_creation_turn", default=None)


@contextmanager
def starting_together(runs: int) -> Iterator[None]:
    """Within this block (and threads started from a copy of its context), `runs` calls of
    `in_turn` are created one at a time and their `wait_for_siblings` return together."""
    group = _Group(threading.Barrier(runs)) if runs > 1 else None
    token = _GROUP.set(group)
    try:
        yield
    finally:
        _GROUP.reset(token)


def in_turn(run: Callable[[], T]) -> T:
    """Call `run`, which creates one environment's subflow run, when no sibling is being
    created; the next one's turn comes when `run` reaches `wait_for_siblings`. A run that
    fails lets every sibling go on without it."""
    group = _GROUP.get()
    if group is None:
        return run()
    turn = _Turn(group.creating, held=group.creating.acquire(timeout=WAIT_AT_MOST))
    token = _TURN.set(turn)
    try:
        return run()
    except BaseException:
        group.barrier.abort()  # the others need not wait for this one
        raise
    finally:
        turn.give_back()
        _TURN.reset(token)


def wait_for_siblings() -> None:
    """Return when every run started together has reached this point (at once outside
    `starting_together`; after WAIT_AT_MOST at worst)."""
    turn = _TURN.get()
    if turn is not None:
        turn.give_back()  # this run exists: the next may be created
    group = _GROUP.get()
    if group is not None:
        with suppress(threading.BrokenBarrierError):
            group.barrier.wait(timeout=WAIT_AT_MOST)
