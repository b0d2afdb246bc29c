"""Retries of transient failures only: exponential backoff with full jitter, Retry-After
honoured, bounded by attempts and a deadline. Propagation (an API or account that exists but
is not yet visible everywhere) is waited out like a poll instead, until the deadline."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from mlplat.errors import TransientError
from mlplat.unreachable import reachable

T = TypeVar("T")
# One DEBUG line per transient answer retried: expected (an API still propagating, a 429 or
# 503, a busy cluster), so it is no news on a console; the mlplat CLI counts these lines.
LOG = logging.getLogger("mlplat.retry")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 8
    initial: float = 0.5
    maximum: float = 30.0
    deadline: float = 300.0


DEFAULT_POLICY = RetryPolicy()
ONCE = RetryPolicy(attempts=1, deadline=0.0)  # one try: any failure is the answer
# Propagation is asked about again after this share of the time waited so far (0.25-10 s): at
# most ~10 % late. Doubling full-jitter backoff made a 4 s window cost 6.4 s (unit test).
PROPAGATION_SHARE = 0.1
PROPAGATION_MIN = 0.25
PROPAGATION_MAX = 10.0


def delay_for(
    attempt: int,
    policy: RetryPolicy,
    error: TransientError,
    rng: random.Random,
    waited: float = 0.0,
) -> float:
    """Seconds to wait before retry number `attempt` (1-based), `waited` seconds after the
    first attempt."""
    if error.propagating and error.retry_after is None:
        share = min(PROPAGATION_MAX, max(PROPAGATION_MIN, waited * PROPAGATION_SHARE))
        return share * rng.uniform(0.8, 1.2)
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
    failures = 0  # attempts that failed for another reason than propagation
    while True:
        attempt += 1
        try:
            return reachable(fn)  # connection failures become ours, transient or not
        except TransientError as error:
            # Propagation is waited out until the deadline: the attempts' budget and the
            # backoff count only other failures (a call that waited out an API's propagation
            # still gets its full budget when the endpoint then restarts).
            failures += 0 if error.propagating else 1
            wait = delay_for(max(failures, 1), policy, error, rng, time.monotonic() - started)
            out_of_time = time.monotonic() - started + wait > policy.deadline
            if failures >= policy.attempts or out_of_time:
                raise
            LOG.debug("retry %d in %.1fs after %s", attempt, wait, error)
            if on_retry is not None:
                on_retry(attempt, error, wait)
            sleep(wait)
