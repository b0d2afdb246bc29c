"""Watch: a per-cluster log of recent changes, and the event stream a `?watch=1` request reads.

Events since a resourceVersion are replayed from memory; older ones (before this process saw the
cluster, or pushed out of the log) answer an ERROR event with a 410 Expired Status, which
clients meet by listing again.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sandbox.k8s.errors import gone

Obj = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One stored change."""

    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    storage: str  # kinds.storage_key of the object's kind
    namespace: str
    obj: Obj
    old: Obj | None


class WatchHub:
    """Recent events of every cluster, and waiting for new ones."""

    def __init__(self, capacity: int = 20000) -> None:
        self._capacity = capacity
        self._cond = threading.Condition()
        self._logs: dict[str, deque[Event]] = {}
        self._floors: dict[str, int] = {}
        self.closed = False

    def publish(self, cluster: str, event: Event) -> None:
        """Record an event (resourceVersions of a cluster grow by one per write)."""
        with self._cond:
            log = self._logs.setdefault(cluster, deque())
            self._floors.setdefault(cluster, event.rv - 1)
            log.append(event)
            if len(log) > self._capacity:
                self._floors[cluster] = log.popleft().rv
            self._cond.notify_all()

    def _since(self, cluster: str, rv: int, current: int) -> list[Event] | None:
        floor = self._floors.setdefault(cluster, current)
        if rv < floor:
            return None
        return [event for event in self._logs.get(cluster, ()) if event.rv > rv]

    def wait(self, cluster: str, rv: int, current: int, timeout: float) -> list[Event] | None:
        """Events after rv, waiting up to timeout for one; None when rv is too old."""
        with self._cond:
            events = self._since(cluster, rv, current)
            if events == [] and not self.closed:
                self._cond.wait(timeout)
                events = self._since(cluster, rv, current)
            return events

    def forget(self, cluster: str, current: int) -> None:
        """Drop a cluster's log (it was deleted); watchers from before get 410."""
        with self._cond:
            self._logs.pop(cluster, None)
            self._floors[cluster] = current
            self._cond.notify_all()

    def close(self) -> None:
        """Wake every watcher so it ends."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()


@dataclass(frozen=True)
class WatchRequest:
    """What one watch follows."""

    cluster: str
    storage: str
    namespace: str | None  # None: every namespace
    matches: Callable[[Obj], bool]
    present: Callable[[Obj], Obj]  # stored object -> the version the client asked for
    deadline: float  # time.monotonic() at which the stream ends


def _line(event_type: str, obj: Obj) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _visible(event: Event, request: WatchRequest) -> str:
    """The event type this watcher sees ("" for none), following objects in and out of view."""
    if event.storage != request.storage:
        return ""
    if request.namespace is not None and event.namespace != request.namespace:
        return ""
    now = request.matches(event.obj)
    before = event.old is not None and request.matches(event.old)
    if event.type == "MODIFIED":
        if now and not before:
            return "ADDED"
        if before and not now:
            return "DELETED"
    return event.type if now or (event.type == "DELETED" and before) else ""


def stream(
    hub: WatchHub,
    request: WatchRequest,
    start_rv: int,
    current_rv: Callable[[], int],
    initial: list[Obj],
) -> Iterator[bytes | None]:
    """JSON lines of events; `None` now and then so the server can notice a gone client."""
    for obj in initial:
        yield _line("ADDED", request.present(obj))
    rv = start_rv
    while not hub.closed:
        remaining = request.deadline - time.monotonic()
        if remaining <= 0:
            return
        events = hub.wait(request.cluster, rv, current_rv(), min(remaining, 1.0))
        if events is None:
            error = gone(f"too old resource version: {rv} ({current_rv()})")
            yield _line("ERROR", error.status())
            return
        for event in events:
            rv = event.rv
            seen = _visible(event, request)
            if seen:
                yield _line(seen, request.present(event.obj))
        yield None
