"""GitHub's primary rate limit: a quota per user per hour, reported on every response."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

WINDOW = 3600.0


@dataclass(frozen=True)
class Quota:
    """Where a user stands in the current window."""

    limit: int
    used: int
    reset: int  # epoch seconds when the window ends

    @property
    def remaining(self) -> int:
        """Calls left in the window."""
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        """The `X-RateLimit-*` headers GitHub sends with every API response."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
            "X-RateLimit-Used": str(self.used),
            "X-RateLimit-Resource": "core",
        }

    def json(self) -> dict[str, int]:
        """One resource of `GET /rate_limit`."""
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": self.reset,
        }


class RateLimiter:
    """Counts calls per user in hourly windows (in memory: a restart starts afresh)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # user -> (window start, used)

    def _current(self, user: str, now: float) -> tuple[float, int]:
        start, used = self._windows.get(user, (now, 0))
        return (now, 0) if now >= start + WINDOW else (start, used)

    def peek(self, user: str, now: float) -> Quota:
        """The quota without counting a call."""
        with self._lock:
            start, used = self._current(user, now)
        return Quota(self.limit, used, int(start + WINDOW))

    def take(self, user: str, now: float) -> Quota | None:
        """Count a call; None (nothing counted) when the quota is spent."""
        with self._lock:
            start, used = self._current(user, now)
            if used >= self.limit:
                self._windows[user] = (start, used)
                return None
            self._windows[user] = (start, used + 1)
            return Quota(self.limit, used + 1, int(start + WINDOW))


def overview(core: Quota) -> dict[str, Any]:
    """The body of `GET /rate_limit`."""
    search = Quota(30, 0, core.reset).json()
    graphql = Quota(core.limit, 0, core.reset).json()
    return {
        "resources": {"core": core.json(), "search": search, "graphql": graphql},
        "rate": core.json(),
    }
