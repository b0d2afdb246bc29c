"""PyGithub errors → mlplat's error types (secondary rate limits and 5xx are transient).

Answers PyGithub cannot read become our errors too: a body that is not JSON (cut short) raises
JSONDecodeError from the call, and a value of the wrong type raises BadAttributeException when
the attribute is read; so the adapters read the attributes they use inside `guarded`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from github import GithubException, RateLimitExceededException
from github.GithubException import BadAttributeException

from mlplat import retry
from mlplat.errors import (
    TRUNCATED,
    WRONG_TYPE,
    ConflictError,
    MlplatError,
    PermanentError,
    TransientError,
    malformed,
)

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


def unreadable(
    exc: json.JSONDecodeError | BadAttributeException, what: str, *, idempotent: bool
) -> MlplatError:
    """Our error for an answer PyGithub could not read (see `mlplat.errors.malformed`)."""
    if isinstance(exc, json.JSONDecodeError):
        return malformed(what, TRUNCATED, str(exc), idempotent=idempotent)
    got = repr(exc.actual_value)[:60]
    return malformed(
        what, WRONG_TYPE, f"expected {_type_name(exc.expected_type)}, got {got}", idempotent=False
    )


_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", bool: "a boolean"}


def _type_name(expected: Any) -> str:
    """PyGithub's expected type (a class, a tuple of classes, `[dict]`…) in words."""
    if isinstance(expected, tuple):
        return " or ".join(sorted({_type_name(t) for t in expected}))
    if isinstance(expected, list):
        return "a list"
    if isinstance(expected, dict):
        return "an object"
    return _NAMES.get(expected, getattr(expected, "__name__", str(expected)))


def guarded(what: str, fn: Callable[[], T], *, idempotent: bool = False) -> T:
    """Call GitHub: transient failures are retried, every failure becomes ours. `idempotent`
    calls (reads) are also retried when their answer was cut short."""

    def once() -> T:
        try:
            return fn()
        except GithubException as exc:
            raise translate(exc, what) from exc
        except (json.JSONDecodeError, BadAttributeException) as exc:
            raise unreadable(exc, what, idempotent=idempotent) from exc

    return retry.call(once)


def missing_as_none(what: str, fn: Callable[[], T]) -> T | None:
    """Like `guarded` for a read, but a 404 is None (an answer that cannot be read is an
    error, never "absent")."""

    def once() -> T | None:
        try:
            return fn()
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise translate(exc, what) from exc
        except (json.JSONDecodeError, BadAttributeException) as exc:
            raise unreadable(exc, what, idempotent=True) from exc

    return retry.call(once)
