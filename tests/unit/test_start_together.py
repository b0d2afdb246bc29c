"""provision-platform's environments start their work together (flows/_start_together.py)."""

from __future__ import annotations

import contextvars
import threading
import time

from flows._start_together import starting_together, wait_for_siblings


def _run(target: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=contextvars.copy_context().run, args=(target, *args))
    thread.start()
    return thread


def test_no_run_passes_before_the_last_arrives() -> None:
    passed: dict[int, float] = {}
    arrived: dict[int, float] = {}

    def run(i: int) -> None:
        time.sleep(0.1 * i)  # the third run's flow is created last
        arrived[i] = time.monotonic()
        wait_for_siblings()
        passed[i] = time.monotonic()

    with starting_together(3):
        threads = [_run(run, i) for i in range(3)]
        for thread in threads:
            thread.join(timeout=10)
    assert sorted(passed) == [0, 1, 2]
    assert min(passed.values()) >= max(arrived.values())


def test_a_run_that_fails_first_releases_the_others() -> None:
    passed: list[float] = []
    started = time.monotonic()

    def run() -> None:
        wait_for_siblings()
        passed.append(time.monotonic() - started)

    with starting_together(3) as barrier:
        threads = [_run(run) for _ in range(2)]
        time.sleep(0.2)
        assert barrier is not None and not passed
        barrier.abort()  # the third run failed before reaching the barrier
        for thread in threads:
            thread.join(timeout=10)
    assert len(passed) == 2 and max(passed) < 5


def test_alone_or_outside_a_platform_run_nothing_waits() -> None:
    started = time.monotonic()
    wait_for_siblings()
    with starting_together(1) as barrier:
        assert barrier is None
        wait_for_siblings()
    assert time.monotonic() - started < 1
