"""PyGithub errors → mlplat's error types (secondary rate limits and 5xx are transient)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from github import GithubException, RateLimitExceededException

from mlplat import retry
from mlplat.errors import ConflictError, MlplatError, PermanentError, TransientError

T = TypeVar("T")


def translate(exc: GithubException, what: str) -> MlplatError:
    """Our error for a failed GitHub call on `what`; never includes request headers."""
    data = exc.data if isinstance(exc.data, dict) else {}
    message = f"{what}: HTTP {exc.status} {data.get('message', '')}".rstrip()
    headers = exc.headers or {}
    after = headers.get("retry-after") or headers.get("Retry-After")
    if isinstance(exc, RateLimitExceededException) or exc.status in (429, 500, 502, 503, 504):
        return TransientError(message, retry_after=float(after) if after else None)
    if exc.status == 403 and after:  # secondary rate limit
        return TransientError(message, retry_after=float(after))
    if exc.status in (409, 422) and "already exists" in str(data).lower():
        return ConflictError(message)
    return PermanentError(message)


def guarded(what: str, fn: Callable[[], T]) -> T:
    """Call GitHub: transient failures are retried, every failure becomes ours."""

    def once() -> T:
        try:
            return fn()
        except GithubException as exc:
            raise translate(exc, what) from exc

    return retry.call(once)


def missing_as_none(what: str, fn: Callable[[], T]) -> T | None:
    """Like `guarded`, but a 404 is None."""

    def once() -> T | None:
        try:
            return fn()
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise translate(exc, what) from exc

    return retry.call(once)
