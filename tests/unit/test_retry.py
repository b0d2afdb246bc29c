"""Only transient errors are retried, with bounded backoff that honours Retry-After."""

from __future__ import annotations

import random

import pytest

from mlplat import retry
from mlplat.errors import PermanentError, TransientError


def test_transient_errors_are_retried_until_success() -> None:
    waits: list[float] = []
    outcomes = iter([TransientError("503"), TransientError("429", retry_after=7), "done"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert retry.call(flaky, sleep=waits.append, rng=random.Random(1)) == "done"
    assert len(waits) == 2
    assert 0 <= waits[0] <= retry.DEFAULT_POLICY.initial
    assert waits[1] >= 7, "Retry-After is a floor"


def test_permanent_errors_are_not_retried() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise PermanentError("400 bad request")

    with pytest.raises(PermanentError):
        retry.call(broken, sleep=lambda _: None)
    assert calls == [1]


def test_attempts_are_bounded() -> None:
    calls = []

    def always() -> None:
        calls.append(1)
        raise TransientError("503")

    policy = retry.RetryPolicy(attempts=3)
    with pytest.raises(TransientError):
        retry.call(always, policy=policy, sleep=lambda _: None)
    assert len(calls) == 3
