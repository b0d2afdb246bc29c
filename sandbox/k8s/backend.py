"""What the clusters of one sandbox runtime share in memory: watch log, hooks, background work.

State itself lives in `rt.store`; this holds only what cannot be stored (waiting watchers,
callbacks, timers). `backend(rt)` finds or makes the one for a runtime.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from sandbox.k8s.hooks import Hooks
from sandbox.k8s.objects import ClusterObjects
from sandbox.k8s.watch import WatchHub
from sandbox.runtime import Runtime

Job = Callable[[], None]


class Backend:
    """Shared in-memory services of one runtime's clusters."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.store = rt.store
        self.hub = WatchHub()
        self.hooks = Hooks()
        self.cache: dict[Any, Any] = {}  # derived data (CRD schemas), keyed by what it derives
        self._jobs: list[tuple[float, int, Job]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False

    def objects(self, cluster: str) -> ClusterObjects:
        """Storage for one cluster."""
        return ClusterObjects(self.store, self.hub, cluster)

    def later(self, job: Job, delay: float = 0.0) -> None:
        """Run job on the background thread after delay seconds."""
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._jobs, (time.monotonic() + delay, next(self._order), job))
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="k8s-background", daemon=True
                )
                self._worker.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._jobs or self._jobs[0][0] > time.monotonic()):
                    wait = self._jobs[0][0] - time.monotonic() if self._jobs else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, _, job = heapq.heappop(self._jobs)
            try:
                job()
            except Exception:
                if not self._closed:
                    traceback.print_exc(file=sys.stderr)

    def close(self) -> None:
        """Stop background work and end every watch."""
        with self._cond:
            self._closed = True
            self._jobs.clear()
            self._cond.notify_all()
        self.hub.close()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=5)


_BACKENDS: dict[int, Backend] = {}
_LOCK = threading.Lock()


def backend(rt: Runtime) -> Backend:
    """The backend of a runtime, made on first use."""
    with _LOCK:
        found = _BACKENDS.get(id(rt))
        if found is None or found.rt is not rt:
            found = _BACKENDS[id(rt)] = Backend(rt)
        return found


def release(rt: Runtime) -> None:
    """Close and forget a runtime's backend (the sandbox is stopping)."""
    with _LOCK:
        found = _BACKENDS.pop(id(rt), None)
    if found is not None and found.rt is rt:
        found.close()
