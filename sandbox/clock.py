"""The sandbox clock: wall time plus an offset that tests can advance."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Seconds since the epoch, as the sandbox sees them.

    Operations store absolute completion times, so a restart on the same state resumes them;
    `advance` moves sandbox time forward without waiting (the offset is kept by the caller).
    """

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        """Seconds added to the wall clock."""
        return self._offset

    def now(self) -> float:
        """Current sandbox time in seconds since the epoch."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move sandbox time forward; returns the new offset."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            return self._offset


def rfc3339(seconds: float) -> str:
    """Google's timestamp form: `2024-05-01T12:00:00.123456Z`."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_timestamp(seconds: float) -> str:
    """Compute Engine's timestamp form: `2024-05-01T05:00:00.123-07:00`."""
    stamp = datetime.fromtimestamp(seconds, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}-00:00"
