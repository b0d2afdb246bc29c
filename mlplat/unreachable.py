"""An API endpoint that could not be reached (restarting, a network blip): the HTTP libraries'
connection errors as mlplat's.

- The call never reached the server (connection refused, connect timeout): a TransientError,
  whatever the call: nothing happened, so sending it again is safe. Its retries wait at least
  REFUSED_WAIT (a server that refuses connections is down or restarting), so a run's 8 attempts
  outlast a restart of several seconds.
- urllib3 gave up after its own retries (the Kubernetes client): it retries connection errors,
  and lost answers only of calls it may repeat: a TransientError too.
- The connection broke after the call was sent: it may have been done. A read (GET, HEAD) is
  repeated; a write is not (a create sent twice meets a 409 that may read as someone else's
  resource): the run stops with a PermanentError, and the next run observes what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import requests
import urllib3.exceptions

from mlplat.errors import MlplatError, PermanentError, TransientError

T = TypeVar("T")
REFUSED_WAIT = 1.0
_READS = ("GET", "HEAD")
_NOT_SENT = (
    ConnectionRefusedError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    requests.exceptions.ConnectTimeout,
)
_CONNECTION_ERRORS = (
    ConnectionError,  # the socket's own (refused, reset, aborted): httplib2, http.client
    TimeoutError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    urllib3.exceptions.MaxRetryError,
    urllib3.exceptions.ProtocolError,
)


def _not_sent(exc: BaseException) -> bool:
    """Whether the error says that no connection was made (so the call was never sent)."""
    if isinstance(exc, _NOT_SENT):
        return True
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _not_sent(exc.reason)
    wrapped = exc.args[0] if isinstance(exc, requests.exceptions.ConnectionError) else None
    return isinstance(wrapped, BaseException) and _not_sent(wrapped)


def translate(exc: BaseException) -> MlplatError | None:
    """Our error for a connection failure; None when `exc` is not one."""
    if not isinstance(exc, _CONNECTION_ERRORS):
        return None
    if _not_sent(exc):
        return TransientError(f"endpoint unreachable: {exc}", retry_after=REFUSED_WAIT)
    method = str(getattr(getattr(exc, "request", None), "method", "") or "")
    if method in _READS or isinstance(exc, urllib3.exceptions.MaxRetryError):
        return TransientError(f"connection lost before the answer: {exc}")
    return PermanentError(
        f"connection lost after a {method or 'call'} was sent ({exc}); the change may have been "
        "made: run again to see it"
    )


def reachable(fn: Callable[[], T]) -> T:
    """`fn()`, its connection failures raised as our errors."""
    try:
        return fn()
    except _CONNECTION_ERRORS as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from exc
