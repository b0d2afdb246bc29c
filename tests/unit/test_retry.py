"""Only transient errors are retried, with bounded backoff that honours Retry-After."""

from __future__ import annotations

import logging
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


def test_propagation_is_waited_out_until_the_deadline_not_the_attempts() -> None:
    """An API enabled moments ago answers SERVICE_DISABLED for minutes on Google: more than
    the attempts' budget of backoffs, which a 503 gets."""
    policy = retry.RetryPolicy(attempts=3, initial=1.0, maximum=4.0, deadline=60.0)
    clock = {"now": 0.0}
    failures = iter([TransientError("SERVICE_DISABLED", propagating=True)] * 10)

    def settling() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "enabled"

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retry.time, "monotonic", lambda: clock["now"])
        assert retry.call(settling, policy=policy, sleep=sleep, rng=random.Random(3)) == "enabled"
        unavailable = iter([TransientError("503")] * 10)

        def down() -> None:
            raise next(unavailable)

        with pytest.raises(TransientError, match="503"):
            retry.call(down, policy=policy, sleep=sleep, rng=random.Random(3))
        forever = TransientError("SERVICE_DISABLED", propagating=True)

        def never() -> None:
            raise forever

        clock["now"] = 0.0
        with pytest.raises(TransientError, match="SERVICE_DISABLED"):
            retry.call(never, policy=policy, sleep=sleep, rng=random.Random(3))
        assert clock["now"] <= policy.deadline


def test_waiting_out_propagation_does_not_use_up_the_attempts() -> None:
    """Found by killing the sandbox mid-run: a feature create that had waited out its API's
    propagation (more answers than the attempts' budget) then met connection refused once and
    gave up at once, where a fresh call rides through a restart."""
    policy = retry.RetryPolicy(attempts=3, initial=0.1, maximum=1.0, deadline=600.0)
    answers = iter(
        [TransientError("SERVICE_DISABLED", propagating=True)] * 10
        + [TransientError("endpoint unreachable", retry_after=1.0)] * 2
        + ["created"]
    )

    def restarting() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    waits: list[float] = []
    assert retry.call(restarting, policy=policy, sleep=waits.append, rng=random.Random(5)) == (
        "created"
    )
    assert len(waits) == 12


@pytest.mark.parametrize("window", [4.0, 40.0])
def test_propagation_is_asked_about_again_soon_after_it_settles(window: float) -> None:
    """The retry that sees propagation settled comes at most ~12 % (or the 0.25 s floor, with
    jitter) after it; exponential backoff with full jitter could come twice as late."""
    clock = {"now": 0.0}

    def settling() -> str:
        if clock["now"] < window:
            raise TransientError("account not yet visible", propagating=True)
        return "visible"

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(retry.time, "monotonic", lambda: clock["now"])
        assert retry.call(settling, sleep=sleep, rng=random.Random(5)) == "visible"
    assert clock["now"] <= max(window * 1.12, window + 0.3), clock["now"]


def test_each_retry_is_one_debug_line_of_mlplat_retry(caplog: pytest.LogCaptureFixture) -> None:
    """The console counts these lines ("N transient answers retried"); none is a warning."""
    outcomes = iter([TransientError("HTTP 503"), TransientError("HTTP 429"), "done"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with caplog.at_level(logging.DEBUG, logger="mlplat.retry"):
        retry.call(flaky, sleep=lambda _: None, rng=random.Random(1))
    lines = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert [(name, level) for name, level, _ in lines] == [("mlplat.retry", logging.DEBUG)] * 2
    assert lines[0][2].startswith("retry 1 in ") and lines[0][2].endswith("after HTTP 503")
