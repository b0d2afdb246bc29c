"""provision-platform's environments are created one at a time, then start their work together
(flows/_start_together.py)."""

from __future__ import annotations

import contextvars
import itertools
import threading
import time
from collections.abc import Callable

import pytest

from flows._start_together import in_turn, starting_together, wait_for_siblings


def _run(target: Callable[..., object], *args: object) -> threading.Thread:
    thread = threading.Thread(target=contextvars.copy_context().run, args=(target, *args))
    thread.start()
    return thread


def test_runs_are_created_one_at_a_time_and_none_passes_before_the_last_exists() -> None:
    creating: dict[int, tuple[float, float]] = {}
    passed: dict[int, float] = {}

    def created(i: int) -> None:
        began = time.monotonic()
        time.sleep(0.1)  # the subflow run being created
        creating[i] = (began, time.monotonic())
        wait_for_siblings()  # the run's body: it exists
        passed[i] = time.monotonic()

    with starting_together(3):
        threads = [_run(in_turn, lambda i=i: created(i)) for i in range(3)]
        for thread in threads:
            thread.join(timeout=10)
    assert sorted(passed) == [0, 1, 2]
    spans = sorted(creating.values())
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
    assert min(passed.values()) >= max(end for _, end in spans)


def test_a_run_that_fails_before_it_exists_lets_the_others_go() -> None:
    passed: list[float] = []
    errors: list[BaseException] = []
    started = time.monotonic()

    def fails() -> None:
        time.sleep(0.1)
        raise RuntimeError("could not create the run")

    def ok() -> None:
        wait_for_siblings()
        passed.append(time.monotonic() - started)

    def catching(run: Callable[[], None]) -> None:
        try:
            in_turn(run)
        except RuntimeError as exc:
            errors.append(exc)

    with starting_together(3):
        threads = [_run(catching, fails), _run(catching, ok), _run(catching, ok)]
        for thread in threads:
            thread.join(timeout=10)
    assert [str(e) for e in errors] == ["could not create the run"]
    assert len(passed) == 2 and max(passed) < 5


def test_alone_or_outside_a_platform_run_nothing_waits() -> None:
    started = time.monotonic()
    assert in_turn(lambda: 7) == 7
    wait_for_siblings()
    with starting_together(1):
        assert in_turn(lambda: 8) == 8
        wait_for_siblings()
    assert time.monotonic() - started < 1


def test_an_error_reaches_the_caller() -> None:
    def fails() -> None:
        raise ValueError("bad spec")

    with starting_together(2), pytest.raises(ValueError, match="bad spec"):
        in_turn(fails)
