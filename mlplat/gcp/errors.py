"""Google API errors → mlplat's error types (transient ones carry Retry-After)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TypeVar

from google.api_core import exceptions as gexc
from google.protobuf import json_format

from mlplat import retry
from mlplat.errors import (
    ConflictError,
    MalformedResponseError,
    MlplatError,
    PermanentError,
    TransientError,
    TruncatedResponseError,
    in_context,
)
from mlplat.retry import DEFAULT_POLICY, RetryPolicy

T = TypeVar("T")


def reason(exc: gexc.GoogleAPICallError) -> str | None:
    """The ErrorInfo reason of a Google error (e.g. SERVICE_DISABLED), if any."""
    value = getattr(exc, "reason", None)
    return str(value) if value else None


def retry_after(exc: gexc.GoogleAPICallError) -> float | None:
    """Seconds from the Retry-After header of a REST response, if present and numeric."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


# Reasons that a moment's wait cures: an API or billing link that has not propagated yet.
_SETTLING_REASONS = {"SERVICE_DISABLED", "BILLING_DISABLED", "UREQ_PROJECT_BILLING_NOT_FOUND"}


def status(exc: gexc.GoogleAPICallError) -> str | None:
    """Google's canonical status name (FAILED_PRECONDITION…) from a REST error body: over
    REST the exception class follows the HTTP code only (400 is always BadRequest)."""
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else None
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    value = error.get("status") if isinstance(error, dict) else None
    return str(value) if value else None


def is_busy(exc: gexc.GoogleAPICallError) -> bool:
    """GKE's "another operation is running on this cluster, try again" refusal."""
    return _busy(status(exc), str(exc.message))


def _busy(status_name: str | None, message: str) -> bool:
    return status_name == "FAILED_PRECONDITION" and "try again" in message.lower()


def _not_yet_visible(message: str) -> bool:
    """A service account created moments ago that other APIs do not see yet (Google says to
    wait 60 s or more); mlplat creates the account earlier in the same run."""
    return "Service account" in message and "does not exist" in message


_TRANSIENT_CODES = (429, 500, 502, 503, 504)


def classify(
    what: str,
    code: int,
    message: str,
    *,
    reasons: Collection[str | None] = (),
    status_name: str | None = None,
    retry_after: float | None = None,
) -> MlplatError:
    """Our error for an HTTP error answer of `what`, whichever client received it."""
    text = f"{what}: HTTP {code} {message}"
    if _not_yet_visible(message):
        return TransientError(text, retry_after=retry_after, propagating=True)
    if code in _TRANSIENT_CODES or _busy(status_name, message):
        return TransientError(text, retry_after=retry_after)
    if code == 409:
        return ConflictError(text)
    if any(r in _SETTLING_REASONS for r in reasons):
        return TransientError(f"{text} (waiting for it to propagate)", propagating=True)
    return PermanentError(text)


def translate(exc: gexc.GoogleAPICallError, what: str) -> MlplatError:
    """Our error for a failed call on `what` (e.g. `gke/cluster mlp-dev: create`)."""
    return classify(
        what,
        int(exc.code or 0),
        str(exc.message),
        reasons=[reason(exc)],
        status_name=status(exc),
        retry_after=retry_after(exc),
    )


@contextmanager
def answers_of(what: str) -> Iterator[None]:
    """Answers that could not be read (found by `mlplat.gcp.responses` before the client read
    them, or by the client itself) become our errors, saying what mlplat was doing."""
    try:
        yield
    except (MalformedResponseError, TruncatedResponseError) as exc:
        raise in_context(exc, what) from exc
    except json_format.ParseError as exc:
        raise MalformedResponseError(f"{what}: the answer could not be read: {exc}") from exc


def guarded(what: str, fn: Callable[[], T], *, policy: RetryPolicy = DEFAULT_POLICY) -> T:
    """Call a Google API: transient failures are retried, every failure becomes ours."""

    def once() -> T:
        with answers_of(what):
            try:
                return fn()
            except gexc.GoogleAPICallError as exc:
                raise translate(exc, what) from exc

    return retry.call(once, policy=policy)


def get_or_none(
    what: str, fn: Callable[[], T], *, policy: RetryPolicy = DEFAULT_POLICY
) -> T | None:
    """Like `guarded`, but a missing resource (404, or 403 on a project) is None. Only an
    answer that says so is: one that cannot be read is an error, never "absent"."""

    def once() -> T | None:
        with answers_of(what):
            try:
                return fn()
            except gexc.NotFound:
                return None
            except gexc.GoogleAPICallError as exc:
                raise translate(exc, what) from exc

    return retry.call(once, policy=policy)
