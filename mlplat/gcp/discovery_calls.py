"""Calls through google-api-python-client (IAM, Cloud Asset): retried like every call, errors
translated to mlplat's, and each answer checked against the method's discovery schema before it
is read (googleapiclient hands back any JSON, and the raw text when the body is not JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from googleapiclient.errors import HttpError

from mlplat import retry
from mlplat.errors import MlplatError
from mlplat.gcp import responses
from mlplat.gcp.errors import answers_of, classify


def translate(exc: HttpError, what: str) -> MlplatError:
    """The mlplat error for an HTTP error answer of `what` (the same rules as the
    google-cloud clients' errors: `mlplat.gcp.errors.classify`)."""
    try:
        error = json.loads(exc.content).get("error", {})
    except (ValueError, AttributeError):
        error = {}
    if not isinstance(error, dict):
        error = {}
    details = error.get("details")
    retry_after = exc.resp.get("retry-after")
    try:
        seconds = float(retry_after) if retry_after else None
    except ValueError:
        seconds = None
    return classify(
        what,
        int(exc.resp.status),
        str(error.get("message", exc.reason)),
        reasons=[d.get("reason") for d in details if isinstance(d, dict)]
        if isinstance(details, list)
        else [],
        status_name=error.get("status"),
        retry_after=seconds,
    )


def execute(
    document: str, what: str, request: Callable[[], Any], *, missing_ok: bool = False
) -> Any:
    """Build the request with `request()` and send it (retried); its answer checked against
    `document` (e.g. `iam.v1`); None for a 404 when `missing_ok`."""

    def once() -> Any:
        built = request()
        with answers_of(what):
            try:
                result = built.execute(num_retries=0)
            except HttpError as exc:
                if missing_ok and int(exc.resp.status) == 404:
                    return None
                raise translate(exc, what) from exc
            return _checked(document, built, result)

    return retry.call(once)


def _checked(document: str, built: Any, result: Any) -> Any:
    doc = responses.document(document)
    method = doc.method_by_id(str(built.methodId))
    name = str(built.methodId)
    if isinstance(result, str | bytes):
        text = result.encode() if isinstance(result, str) else result
        return responses.check_body(doc, method, name, text)
    responses.check_payload(doc, method, name, result)
    return result
