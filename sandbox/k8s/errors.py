"""Kubernetes API errors: `Status` objects with `reason` and `code`, as kubectl prints them."""

from __future__ import annotations

from typing import Any

from sandbox.k8s.kinds import Kind

Obj = dict[str, Any]


class StatusError(Exception):
    """An error answered as a Kubernetes `Status` (kind Status, status Failure)."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: Obj | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> Obj:
        """The Status body."""
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(target: Kind | None, name: str, **extra: Any) -> Obj:
    details: Obj = {"name": name} if name else {}
    if target is not None:
        if target.group:
            details["group"] = target.group
        details["kind"] = target.plural
    details.update(extra)
    return details


def _subject(kind: Kind, name: str) -> str:
    return f'{kind.resource} "{name}"' if name else kind.resource


def not_found(kind: Kind, name: str) -> StatusError:
    """404 NotFound: `deployments.apps "web" not found`."""
    return StatusError(404, "NotFound", f"{_subject(kind, name)} not found", _details(kind, name))


def already_exists(kind: Kind, name: str) -> StatusError:
    """409 AlreadyExists."""
    return StatusError(
        409, "AlreadyExists", f"{_subject(kind, name)} already exists", _details(kind, name)
    )


def conflict(kind: Kind, name: str, why: str) -> StatusError:
    """409 Conflict: `Operation cannot be fulfilled on configmaps "x": <why>`."""
    message = f"Operation cannot be fulfilled on {_subject(kind, name)}: {why}"
    return StatusError(409, "Conflict", message, _details(kind, name))


def stale(kind: Kind, name: str) -> StatusError:
    """409 Conflict for a resourceVersion that is not the stored one."""
    return conflict(
        kind,
        name,
        "the object has been modified; please apply your changes to the latest version "
        "and try again",
    )


_CAUSE_REASONS = {
    "Unsupported value": "FieldValueNotSupported",
    "Required value": "FieldValueRequired",
    "Forbidden": "FieldValueForbidden",
    "Too long": "FieldValueTooLong",
    "Duplicate value": "FieldValueDuplicate",
}


def _cause_reason(message: str) -> str:
    """A cause's reason from its message, as field.Error types name it."""
    return next(
        (r for prefix, r in _CAUSE_REASONS.items() if message.startswith(prefix)),
        "FieldValueInvalid",
    )


def invalid(kind: Kind, name: str, causes: list[tuple[str, str]]) -> StatusError:
    """422 Invalid with (field, message) causes: `Secret "x" is invalid: data[a]: …`."""
    what = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
    text = "; ".join(f"{field}: {message}" for field, message in causes)
    if len(causes) > 1:
        text = "[" + ", ".join(f"{field}: {message}" for field, message in causes) + "]"
    listed = [
        {"reason": _cause_reason(message), "message": message, "field": field}
        for field, message in causes
    ]
    return StatusError(
        422,
        "Invalid",
        f'{what} "{name}" is invalid: {text}',
        {**_details(None, name), "group": kind.group, "kind": kind.kind, "causes": listed},
    )


def bad_request(message: str) -> StatusError:
    """400 BadRequest."""
    return StatusError(400, "BadRequest", message)


def forbidden(
    message: str, target: Kind | None = None, name: str = "", **extra: Any
) -> StatusError:
    """403 Forbidden (details name the target kind and object, plus extra fields)."""
    return StatusError(403, "Forbidden", message, _details(target, name, **extra) or None)


def unauthorized() -> StatusError:
    """401 Unauthorized."""
    return StatusError(401, "Unauthorized", "Unauthorized")


def method_not_allowed(message: str) -> StatusError:
    """405 MethodNotAllowed."""
    return StatusError(405, "MethodNotAllowed", message)


def unsupported_media_type(content_type: str) -> StatusError:
    """415 UnsupportedMediaType."""
    return StatusError(
        415,
        "UnsupportedMediaType",
        f'the body of the request was in an unknown format "{content_type}" - accepted media '
        "types include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml",
    )


def gone(message: str) -> StatusError:
    """410 Expired: a watch or list from a resourceVersion no longer kept."""
    return StatusError(410, "Expired", message)


def no_such_path() -> StatusError:
    """404 for a URL that names no resource."""
    return StatusError(404, "NotFound", "the server could not find the requested resource")
