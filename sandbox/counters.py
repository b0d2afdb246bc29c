"""Counts of calls per API method (reads vs writes) and a bounded log of recent requests."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RequestRecord:
    """One request as seen by a sandbox server."""

    time: float
    api: str
    method: str  # discovery method id, or "" when the path matched no method
    http_method: str
    path: str
    query: str
    status: int
    read: bool
    fault: str  # the injected fault, "" when none
    millis: float


class Counters:
    """Thread-safe call counters; `snapshot()` is what `GET /counters` answers."""

    def __init__(self, log_size: int = 2000) -> None:
        self._lock = threading.Lock()
        self._methods: dict[str, dict[str, int]] = {}
        self._log: deque[RequestRecord] = deque(maxlen=log_size)

    def record(self, record: RequestRecord) -> None:
        """Count a request and keep it in the log."""
        with self._lock:
            self._log.append(record)
            if not record.method:
                return
            entry = self._methods.setdefault(
                record.method, {"count": 0, "reads": 0, "writes": 0, "errors": 0}
            )
            entry["count"] += 1
            entry["reads" if record.read else "writes"] += 1
            if record.status >= 400:
                entry["errors"] += 1

    def snapshot(self) -> dict[str, Any]:
        """Totals, per API and per method."""
        with self._lock:
            methods = {name: dict(entry) for name, entry in sorted(self._methods.items())}
        apis: dict[str, dict[str, int]] = {}
        for name, entry in methods.items():
            total = apis.setdefault(
                name.split(".", 1)[0], {"count": 0, "reads": 0, "writes": 0, "errors": 0}
            )
            for key in total:
                total[key] += entry[key]
        reads = sum(entry["reads"] for entry in methods.values())
        writes = sum(entry["writes"] for entry in methods.values())
        return {"reads": reads, "writes": writes, "apis": apis, "methods": methods}

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The most recent requests, oldest first."""
        with self._lock:
            records = list(self._log)
        if limit is not None:
            records = records[-limit:]
        return [asdict(record) for record in records]

    def reset(self) -> None:
        """Forget all counts and the log."""
        with self._lock:
            self._methods.clear()
            self._log.clear()
