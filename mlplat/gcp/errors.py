"""Google API errors → mlplat's error types (transient ones carry Retry-After)."""

from __future__ import annotations

from google.api_core import exceptions as gexc

from mlplat.errors import MlplatError, PermanentError, TransientError

_TRANSIENT = (
    gexc.TooManyRequests,
    gexc.InternalServerError,
    gexc.BadGateway,
    gexc.ServiceUnavailable,
    gexc.GatewayTimeout,
    gexc.DeadlineExceeded,
)


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


def translate(exc: gexc.GoogleAPICallError, what: str) -> MlplatError:
    """Our error for a failed call on `what` (e.g. `gke/cluster mlp-dev: create`)."""
    message = f"{what}: HTTP {exc.code} {exc.message}"
    if isinstance(exc, _TRANSIENT):
        return TransientError(message, retry_after=retry_after(exc))
    return PermanentError(message)
