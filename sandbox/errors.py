"""Google API errors: the `{"error": {code, message, status, details}}` bodies real APIs return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
HELP = "type.googleapis.com/google.rpc.Help"

# google.rpc.Code names by HTTP status, for errors raised without an explicit status.
_STATUS_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# google.rpc.Code numbers, used inside operations (`error.code` is the gRPC code there).
RPC_CODES = {
    "OK": 0,
    "CANCELLED": 1,
    "UNKNOWN": 2,
    "INVALID_ARGUMENT": 3,
    "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5,
    "ALREADY_EXISTS": 6,
    "PERMISSION_DENIED": 7,
    "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9,
    "ABORTED": 10,
    "OUT_OF_RANGE": 11,
    "UNIMPLEMENTED": 12,
    "INTERNAL": 13,
    "UNAVAILABLE": 14,
    "DATA_LOSS": 15,
    "UNAUTHENTICATED": 16,
}


@dataclass
class ApiError(Exception):
    """An error answered to the client.

    `reason`/`domain`/`metadata` become a google.rpc.ErrorInfo detail; `legacy_reason` is the
    `errors[].reason` of Compute-style bodies (`notFound`, `alreadyExists`, …).
    """

    code: int
    message: str
    status: str = ""
    reason: str = ""
    domain: str = "googleapis.com"
    metadata: dict[str, str] = field(default_factory=dict)
    details: list[dict[str, Any]] = field(default_factory=list)
    legacy_reason: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # True: the body carries `errors[]` whatever the API (GKE's 404s do, unlike its others)
    with_errors_list: bool = False

    def __post_init__(self) -> None:
        super().__init__(self.message)
        if not self.status:
            self.status = _STATUS_BY_HTTP.get(self.code, "UNKNOWN")

    @property
    def rpc_code(self) -> int:
        """The google.rpc.Code number for the status."""
        return RPC_CODES.get(self.status, 2)

    def all_details(self) -> list[dict[str, Any]]:
        """Details with the ErrorInfo first, when there is a reason."""
        info: list[dict[str, Any]] = []
        if self.reason:
            info.append(
                {
                    "@type": ERROR_INFO,
                    "reason": self.reason,
                    "domain": self.domain,
                    "metadata": dict(self.metadata),
                }
            )
        return info + list(self.details)

    def body(self, legacy_errors: bool = False) -> dict[str, Any]:
        """The JSON error body; `legacy_errors` adds Compute's `errors` list."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        details = self.all_details()
        if details:
            error["details"] = details
        if legacy_errors or self.with_errors_list:
            error["errors"] = [
                {
                    "message": self.message,
                    "domain": "global",
                    "reason": self.legacy_reason or _legacy_reason(self.status),
                }
            ]
        return {"error": error}

    def operation_error(self) -> dict[str, Any]:
        """The google.rpc.Status form used in a failed long-running operation."""
        error: dict[str, Any] = {"code": self.rpc_code, "message": self.message}
        details = self.all_details()
        if details:
            error["details"] = details
        return error


def _legacy_reason(status: str) -> str:
    return {
        "NOT_FOUND": "notFound",
        "ALREADY_EXISTS": "alreadyExists",
        "INVALID_ARGUMENT": "invalid",
        "FAILED_PRECONDITION": "conditionNotMet",
        "PERMISSION_DENIED": "forbidden",
        "RESOURCE_EXHAUSTED": "rateLimitExceeded",
        "UNAVAILABLE": "backendError",
        "INTERNAL": "backendError",
        "DEADLINE_EXCEEDED": "backendError",
        "UNIMPLEMENTED": "notImplemented",
    }.get(status, "invalid")


def not_found(message: str, **kw: Any) -> ApiError:
    """404 NOT_FOUND."""
    kw.setdefault("legacy_reason", "notFound")
    return ApiError(404, message, "NOT_FOUND", **kw)


def already_exists(message: str, **kw: Any) -> ApiError:
    """409 ALREADY_EXISTS (a `Conflict` for REST clients)."""
    kw.setdefault("legacy_reason", "alreadyExists")
    return ApiError(409, message, "ALREADY_EXISTS", **kw)


def failed_precondition(message: str, **kw: Any) -> ApiError:
    """400 FAILED_PRECONDITION."""
    return ApiError(400, message, "FAILED_PRECONDITION", **kw)


def invalid_argument(message: str, field_path: str | None = None, **kw: Any) -> ApiError:
    """400 INVALID_ARGUMENT; with a field, a google.rpc.BadRequest field violation too."""
    details = list(kw.pop("details", []))
    if field_path is not None:
        details.append(
            {
                "@type": BAD_REQUEST,
                "fieldViolations": [{"field": field_path, "description": message}],
            }
        )
    return ApiError(400, message, "INVALID_ARGUMENT", details=details, **kw)


def permission_denied(message: str, **kw: Any) -> ApiError:
    """403 PERMISSION_DENIED."""
    kw.setdefault("legacy_reason", "forbidden")
    return ApiError(403, message, "PERMISSION_DENIED", **kw)


def resource_exhausted(message: str, retry_after: float | None = None, **kw: Any) -> ApiError:
    """429 RESOURCE_EXHAUSTED, with a `Retry-After` header when given."""
    headers = {} if retry_after is None else {"Retry-After": f"{max(0, round(retry_after))}"}
    kw.setdefault("legacy_reason", "rateLimitExceeded")
    return ApiError(429, message, "RESOURCE_EXHAUSTED", headers=headers, **kw)


def unimplemented(message: str) -> ApiError:
    """501 UNIMPLEMENTED: a real method the sandbox does not emulate."""
    return ApiError(501, message, "UNIMPLEMENTED")


def service_disabled(service: str, title: str, project_number: str) -> ApiError:
    """403 SERVICE_DISABLED, word for word what Google answers for an API not enabled."""
    url = (
        f"https://console.developers.google.com/apis/api/{service}/overview"
        f"?project={project_number}"
    )
    message = (
        f"{title} has not been used in project {project_number} before or it is disabled. "
        f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a few "
        "minutes for the action to propagate to our systems and retry."
    )
    return permission_denied(
        message,
        reason="SERVICE_DISABLED",
        legacy_reason="accessNotConfigured",
        metadata={
            "service": service,
            "consumer": f"projects/{project_number}",
            "serviceTitle": title,
            "containerInfo": project_number,
            "activationUrl": url,
        },
        details=[
            {
                "@type": HELP,
                "links": [{"description": "Google developers console API activation", "url": url}],
            }
        ],
    )
