"""How a command runs its flows: in a thread, while the main thread watches for SIGINT and
SIGTERM and for the Prefect server going away.

A flow run waits in many places (an environment's lock, an operation, a subflow's thread); a
signal delivered to it, or a server that died under it, used to leave the process waiting:
Prefect's SIGTERM handler raises in the main thread, which then joins the environments' threads,
which go on waiting. Here the main thread never runs the flow. On a signal it marks the
command's runs Crashed (when the server answers, within a few seconds) and exits at once with
128 + the signal's number; when the server stops answering, it says so and how to go on, and
exits 1. The slots the runs held free themselves when their leases lapse."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SERVER_GRACE = 45.0  # seconds the Prefect server may not answer before the command gives up
CHECK_EVERY = 3.0  # how often the server is asked (/health)
CLEANUP_BUDGET = 5.0  # seconds spent marking runs Crashed on the way out
RUN_TAG_PREFIX = "mlplat-command-"


@dataclass
class Server:
    """The Prefect server the runs report to: its API URL and, when mlplat started it, its
    process (PID) and log."""

    url: str
    pid: int | None = None
    log: Path | None = None
    started_here: bool = False

    def gone(self) -> bool:
        """Its process (when known) has exited."""
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        with contextlib.suppress(OSError):
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            return state == "Z"
        return False

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=10) as response:
                return bool(response.status == 200)
        except OSError:
            return False


@dataclass
class _Outcome:
    value: Any = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def run(call: Callable[[], T], server: Server) -> T:
    """Run `call` (one or more flows) in a thread and return its result; raise what it
    raised. SIGINT/SIGTERM and a dead Prefect server end the process (see the module)."""
    if threading.current_thread() is not threading.main_thread():
        return call()  # signals reach only the main thread: nothing to watch from here
    tag = f"{RUN_TAG_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"  # which process ran it
    outcome = _Outcome()

    def target() -> None:
        from prefect import tags  # noqa: PLC0415 - the command has set Prefect's environment

        try:
            with tags(tag):  # subflows and their threads inherit it: this command's runs
                outcome.value = call()
        except BaseException as exc:  # handed to the main thread
            outcome.error = exc
        finally:
            outcome.done.set()

    received: list[int] = []
    with _catching((signal.SIGINT, signal.SIGTERM), received, outcome.done):
        worker = threading.Thread(target=target, name="mlplat-flows", daemon=True)
        worker.start()
        silent_since: float | None = None
        checked = time.monotonic()
        while not outcome.done.wait(0.5):
            if received:
                _exit_on_signal(received[0], tag, server)
            if time.monotonic() - checked < CHECK_EVERY:
                continue
            checked = time.monotonic()
            if server.answers():
                silent_since = None
                continue
            silent_since = silent_since or checked
            if server.gone() or checked - silent_since >= SERVER_GRACE:
                _exit_on_dead_server(server, checked - silent_since)
        if received:
            _exit_on_signal(received[0], tag, server)
    if outcome.error is not None:
        raise outcome.error
    value: T = outcome.value
    return value


@contextlib.contextmanager
def _catching(
    signals: tuple[signal.Signals, ...], received: list[int], wake: threading.Event
) -> Iterator[None]:
    """While inside: the signals are noted (and wake the main thread) instead of acting."""

    def note(number: int, frame: object) -> None:
        del frame
        received.append(number)
        wake.set()

    previous = {number: signal.signal(number, note) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _exit_on_signal(number: int, tag: str, server: Server) -> None:
    name = signal.Signals(number).name
    print(
        f"\nmlplat: stopped by {name}; marking this command's flow runs Crashed. Slots they "
        "held free themselves within a minute; run the command again to go on.",
        file=sys.stderr,
        flush=True,
    )
    cleaner = threading.Thread(
        target=_crash_runs, args=(tag, f"the mlplat command was stopped by {name}"), daemon=True
    )
    cleaner.start()
    cleaner.join(CLEANUP_BUDGET)
    _leave(128 + number)


def _exit_on_dead_server(server: Server, silent: float) -> None:
    if server.gone():
        what = f"the Prefect server mlplat started (pid {server.pid}) has exited"
        if server.log is not None:
            what += f"; its log: {server.log}"
        then = (
            "Run the command again: mlplat starts a new Prefect server and the runs pick up "
            "where this one stopped (what it made is found, not made twice)."
        )
    else:
        what = f"the Prefect server at {server.url} has not answered for {silent:.0f}s"
        then = (
            "Check that server (or unset PREFECT_API_URL to let mlplat start its own), then "
            "run the command again: the runs pick up where this one stopped."
        )
    print(
        f"\nmlplat: {what}. This command's flow runs cannot report to it, so the command "
        f"stops here. {then}",
        file=sys.stderr,
        flush=True,
    )
    _leave(1)


def _leave(code: int) -> None:
    """End the process now: the flows' threads may be waiting on a lock or a dead server,
    and an orderly exit would wait for them."""
    with contextlib.suppress(Exception):
        if sys.stderr.isatty():
            sys.stderr.write("\x1b[?25h")  # the cursor, which the live progress view hides
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _crash_runs(tag: str, message: str) -> None:
    """Mark this command's flow runs that have not finished Crashed (best effort)."""
    with contextlib.suppress(Exception):
        from prefect.client.orchestration import get_client  # noqa: PLC0415
        from prefect.client.schemas.filters import (  # noqa: PLC0415
            FlowRunFilter,
            FlowRunFilterState,
            FlowRunFilterStateType,
            FlowRunFilterTags,
        )
        from prefect.client.schemas.objects import StateType  # noqa: PLC0415
        from prefect.states import Crashed  # noqa: PLC0415

        unfinished = [
            StateType.RUNNING,
            StateType.PENDING,
            StateType.SCHEDULED,
            StateType.PAUSED,
            StateType.CANCELLING,
        ]
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    tags=FlowRunFilterTags(all_=[tag]),
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished)),
                )
            )
            for found in runs:
                client.set_flow_run_state(found.id, Crashed(message=message), force=True)
