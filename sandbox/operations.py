"""Long-running operations that progress on the clock, with declarative effects.

An operation is a stored record: when it is done (`doneAt`, sandbox clock) and what it does then
(`effect`: a registered effect kind plus JSON arguments, see `sandbox.effects`). Due operations
are settled lazily whenever a request arrives and by a background ticker.

Each API renders the record in its own shape (google.longrunning.Operation, Compute's Operation).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Any, Protocol

from sandbox.clock import Clock
from sandbox.effects import apply_effect, is_registered
from sandbox.errors import ApiError
from sandbox.faults import Faults
from sandbox.latency import LatencyModel
from sandbox.store import Store

Record = dict[str, Any]

COLLECTION = "operations"
PENDING = "operations.pending"


class Owner(Protocol):
    """What operations use of the runtime that owns them (effects are handed the owner)."""

    store: Store
    clock: Clock
    latency: LatencyModel
    faults: Faults


def _key(api: str, name: str) -> str:
    return f"{api}:{name}"


class Operations:
    """Starts, settles, reads and waits on operations."""

    def __init__(self, rt: Owner) -> None:
        self._rt = rt

    def start(
        self,
        *,
        api: str,
        name: str,
        method: str,
        effect: dict[str, Any],
        info: dict[str, Any] | None = None,
        duration: float | None = None,
        failure_effect: dict[str, Any] | None = None,
    ) -> Record:
        """Record a new operation; it completes after `duration` seconds (default: the latency
        model's for `method`) unless a fault rule makes it fail (then `failure_effect` runs)."""
        rt = self._rt
        if not is_registered(effect["kind"]):
            raise ValueError(f"unknown effect kind {effect['kind']!r}")
        now = rt.clock.now()
        seconds = rt.latency.operation(method) if duration is None else duration
        failure = rt.faults.operation_failure(api, method)
        record: Record = {
            "api": api,
            "name": name,
            "method": method,
            "seq": rt.store.next_value("operations"),
            "startedAt": now,
            "doneAt": now + seconds,
            "done": False,
            "effect": effect,
            "failureEffect": failure_effect,
            "plannedFailure": None if failure is None else failure.operation_error(),
            "error": None,
            "result": None,
            "info": info or {},
        }
        with rt.store.transaction() as store:
            store.put(COLLECTION, _key(api, name), record)
            store.put(PENDING, _key(api, name), {"doneAt": record["doneAt"], "seq": record["seq"]})
        return record

    def get(self, api: str, name: str) -> Record | None:
        """The operation after settling due work, or None."""
        self.settle_due()
        return self._rt.store.get(COLLECTION, _key(api, name))

    def list(self, api: str, prefix: str = "") -> list[Record]:
        """Operations of an API whose name starts with prefix."""
        self.settle_due()
        return self._rt.store.values(COLLECTION, _key(api, prefix))

    def update_info(self, api: str, name: str, **info: Any) -> None:
        """Merge fields into an operation's `info` (e.g. progress shown while running)."""
        with self._rt.store.transaction() as store:
            record = store.get(COLLECTION, _key(api, name))
            if record is not None:
                record["info"].update(info)
                store.put(COLLECTION, _key(api, name), record)

    def settle_due(self) -> int:
        """Complete every operation whose time has come, oldest first; returns how many.

        Not inside a transaction: a handler that read a document and will write it back must
        not have an effect change that document in between (its write would undo the effect).
        Every request settles before its handler runs, so nothing is late by more than that.
        """
        if self._rt.store.in_transaction():
            return 0
        now = self._rt.clock.now()
        due = sorted(
            (pending["doneAt"], pending["seq"], key)
            for key, pending in self._rt.store.items(PENDING)
            if pending["doneAt"] <= now
        )
        for _, _, key in due:
            self._complete(key)
        return len(due)

    def wait(self, api: str, name: str, timeout: float) -> Record | None:
        """Block until the operation is done or `timeout` wall seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.get(api, name)
            if record is None or record["done"] or time.monotonic() >= deadline:
                return record
            remaining = record["doneAt"] - self._rt.clock.now()
            time.sleep(max(0.005, min(0.05, remaining, deadline - time.monotonic())))

    def _complete(self, key: str) -> None:
        rt = self._rt
        with rt.store.transaction() as store:
            record = store.get(COLLECTION, key)
            store.delete(PENDING, key)
            if record is None or record["done"]:
                return
            record["done"] = True
            record["endedAt"] = max(rt.clock.now(), record["doneAt"])
            if record["plannedFailure"] is not None:
                record["error"] = record["plannedFailure"]
                if record["failureEffect"]:
                    apply_effect(rt, record["failureEffect"])
            else:
                try:
                    record["result"] = apply_effect(rt, record["effect"])
                except ApiError as exc:
                    record["error"] = exc.operation_error()
                except Exception as exc:  # a sandbox bug: end the operation, do not loop on it
                    traceback.print_exc(file=sys.stderr)
                    record["error"] = {"code": 13, "message": f"sandbox internal error: {exc}"}
            store.put(COLLECTION, key, record)


class Ticker:
    """Settles due operations in the background, so resources appear even if nobody polls."""

    def __init__(self, operations: Operations, interval: float = 0.2) -> None:
        self._operations = operations
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-ticker", daemon=True)

    def start(self) -> None:
        """Start ticking."""
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._operations.settle_due()
            except Exception:
                traceback.print_exc(file=sys.stderr)
