"""Retries of transient failures only: exponential backoff with full jitter, Retry-After
honoured, bounded by attempts and a deadline."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mlplat.errors import TransientError
from mlplat.unreachable import reachable

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    initial: float = 0.5
    maximum: float = 30.0
    deadline: float = 300.0


DEFAULT_POLICY = RetryPolicy()


def delay_for(
    attempt: int, policy: RetryPolicy, error: TransientError, rng: random.Random
) -> float:
    """Seconds to wait before retry number `attempt` (1-based)."""
    backoff = min(policy.maximum, policy.initial * 2 ** (attempt - 1))
    jittered = rng.uniform(0, backoff)
    if error.retry_after is not None:
        return max(error.retry_after, jittered)
    return jittered


def call(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_retry: Callable[[int, TransientError, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run `fn`, retrying it while it raises TransientError; other errors pass through."""
    rng = rng or random.Random()
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return reachable(fn)  # connection failures become ours, transient or not
        except TransientError as error:
            wait = delay_for(attempt, policy, error, rng)
            out_of_time = time.monotonic() - started + wait > policy.deadline
            # Propagation is waited out until the deadline: attempts count only other failures.
            if (attempt >= policy.attempts and not error.propagating) or out_of_time:
                raise
            if on_retry is not None:
                on_retry(attempt, error, wait)
            sleep(wait)
