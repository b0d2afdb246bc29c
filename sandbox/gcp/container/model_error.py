"""The error of the Container model: a request GKE would refuse (shared by its modules)."""

from __future__ import annotations

_HTTP_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "UNIMPLEMENTED": 501,
}


class ModelError(Exception):
    """A request GKE or GKE Hub would refuse: a google.rpc status name and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        """The HTTP status Google answers with for this status name."""
        return _HTTP_STATUS.get(self.code, 500)
