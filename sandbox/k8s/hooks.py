"""In-process extension points for simulated controllers: change callbacks and admission.

- change callbacks `fn(event_type, obj)` run after a write is stored (ADDED, MODIFIED, DELETED),
  in the writer's thread, outside any store lock; they may write through `ClusterApi`.
- admission callbacks `fn(operation, obj, old, user)` run on CREATE, UPDATE and DELETE (obj is
  then the object deleted) before a write is stored (also for dry runs); they return warnings,
  or raise `Denied` to reject it.
"""

from __future__ import annotations

import copy
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.k8s.identity import UserInfo

Obj = dict[str, Any]
ChangeFn = Callable[[str, Obj], None]
AdmissionFn = Callable[[str, Obj, Obj | None, UserInfo], "list[str] | None"]
Unsubscribe = Callable[[], None]


class Denied(Exception):  # noqa: N818 (the name controllers raise)
    """Raised by an admission callback to reject a write (answered as 403 unless code says;
    `reason` is the Status reason, by default the one of the code)."""

    def __init__(self, message: str, code: int = 403, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.reason = reason


class Hooks:
    """Callbacks per cluster key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, list[ChangeFn]] = {}
        self._admissions: dict[str, list[AdmissionFn]] = {}

    def _add(self, table: dict[str, list[Any]], cluster: str, fn: Any) -> Unsubscribe:
        with self._lock:
            table.setdefault(cluster, []).append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in table.get(cluster, []):
                    table[cluster].remove(fn)

        return unsubscribe

    def on_change(self, cluster: str, fn: ChangeFn) -> Unsubscribe:
        """Call fn(event_type, obj) after every stored change in a cluster."""
        return self._add(self._changes, cluster, fn)

    def admission(self, cluster: str, fn: AdmissionFn) -> Unsubscribe:
        """Call fn(operation, obj, old, user) before every create or update in a cluster."""
        return self._add(self._admissions, cluster, fn)

    def admit(
        self, cluster: str, operation: str, obj: Obj, old: Obj | None, user: UserInfo
    ) -> list[str]:
        """Run the admission callbacks; their warnings, or `Denied` from the first to reject."""
        with self._lock:
            callbacks = list(self._admissions.get(cluster, ()))
        warnings: list[str] = []
        for fn in callbacks:
            warnings += fn(operation, obj, old, user) or []
        return warnings

    def notify(self, cluster: str, changes: Iterable[tuple[str, Obj]]) -> None:
        """Deliver changes to the cluster's change callbacks (a failing callback is reported)."""
        with self._lock:
            callbacks = list(self._changes.get(cluster, ()))
        if not callbacks:
            return
        for event_type, obj in changes:
            for fn in callbacks:
                try:
                    fn(event_type, copy.deepcopy(obj))
                except Exception:
                    traceback.print_exc(file=sys.stderr)
