"""Long-running operations that progress on the clock, with declarative effects.

An operation is a stored record: when it is done (`doneAt`, sandbox clock) and what it does then
(`effect`: a registered effect kind plus JSON arguments). Nothing is a closure, so a sandbox
restarted on the same state completes operations started before the restart. Due operations are
settled lazily whenever a request arrives and by a background ticker.

Each API renders the record in its own shape (google.longrunning.Operation, Compute's Operation).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.errors import ApiError

if TYPE_CHECKING:
    from sandbox.runtime import Runtime

Record = dict[str, Any]
EffectFn = Callable[["Runtime", dict[str, Any]], "dict[str, Any] | None"]

COLLECTION = "operations"
PENDING = "operations.pending"
_EFFECTS: dict[str, EffectFn] = {}


def effect(kind: str) -> Callable[[EffectFn], EffectFn]:
    """Register an effect kind: `fn(runtime, args)` applies it and returns the operation's
    response (or None). It may raise ApiError to make the operation end in error."""

    def register(fn: EffectFn) -> EffectFn:
        if kind in _EFFECTS and _EFFECTS[kind] is not fn:
            raise ValueError(f"effect {kind!r} registered twice")
        _EFFECTS[kind] = fn
        return fn

    return register


def make_effect(kind: str, **args: Any) -> dict[str, Any]:
    """The stored form of an effect."""
    return {"kind": kind, "args": args}


@effect("store.put")
def _put(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    rt.store.put(args["collection"], args["key"], args["doc"])
    return dict(args["doc"])


@effect("store.delete")
def _delete(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    rt.store.delete(args["collection"], args["key"])
    return None


@effect("none")
def _nothing(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    return args.get("response")


def _key(api: str, name: str) -> str:
    return f"{api}:{name}"


class Operations:
    """Starts, settles, reads and waits on operations."""

    def __init__(self, rt: Runtime) -> None:
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
        if effect["kind"] not in _EFFECTS:
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
                    _apply(rt, record["failureEffect"])
            else:
                try:
                    record["result"] = _apply(rt, record["effect"])
                except ApiError as exc:
                    record["error"] = exc.operation_error()
                except Exception as exc:  # a sandbox bug: end the operation, do not loop on it
                    traceback.print_exc(file=sys.stderr)
                    record["error"] = {"code": 13, "message": f"sandbox internal error: {exc}"}
            store.put(COLLECTION, key, record)


def _apply(rt: Runtime, stored: dict[str, Any]) -> dict[str, Any] | None:
    fn = _EFFECTS.get(stored["kind"])
    if fn is None:
        raise ApiError(500, f"operation effect {stored['kind']!r} is not registered", "INTERNAL")
    return fn(rt, stored["args"])


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
