"""mlplat's own error types; adapters translate library errors into these with `raise … from`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class MlplatError(Exception):
    """Base of every error mlplat raises on purpose."""


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem in the spec: where it is and what is wrong."""

    file: Path
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{_display(self.file)}:{self.line} {self.path}: {self.message}"


class SpecError(MlplatError):
    """The spec is invalid; carries every issue found, not just the first."""

    def __init__(self, issues: Iterable[SpecIssue]) -> None:
        self.issues = tuple(sorted(set(issues)))
        super().__init__("\n".join(str(issue) for issue in self.issues))


class PermanentError(MlplatError):
    """A failure that retrying cannot fix (bad request, permission, precondition)."""


class ReplacementRequired(PermanentError):  # noqa: N818 - the name DESIGN.md uses
    """An immutable field differs: the resource would have to be deleted and re-created."""


class OwnershipError(PermanentError):
    """A resource exists but is not ours (no ownership label): it is never taken over."""


class ConflictError(PermanentError):
    """The resource already exists (HTTP 409): maybe an earlier run's create, in flight."""


class TransientError(MlplatError):
    """A failure worth retrying (429, 5xx, deadline); `retry_after` in seconds when known.
    `propagating`: something done moments ago is not visible yet (an API enabled, a billing
    link, a service account), which Google says can take minutes: retried until the deadline,
    however many attempts that takes."""

    def __init__(
        self, message: str, retry_after: float | None = None, *, propagating: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.propagating = propagating


class MalformedResponseError(PermanentError):
    """An API answered something mlplat cannot read: a value of the wrong JSON type, a state
    it decides on with a value it does not know, or (to a write) a cut-short body. Never taken
    for "absent" (that would create a duplicate) and never guessed around."""


class TruncatedResponseError(TransientError):
    """An API's answer to a read was cut short (not valid JSON)."""


TRUNCATED = "truncated JSON"
WRONG_TYPE = "wrong type"
UNKNOWN_ENUM = "unknown enum value"


def described(value: Any) -> str:
    """A JSON value's type, and the value when short (`the string 'x'`, `a list`), for
    messages about a malformed answer."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"


def malformed(method: str, problem: str, detail: str, *, idempotent: bool) -> MlplatError:
    """Our error for an answer of `method` (an API method id, or what mlplat was doing) that
    could not be read: `problem` is TRUNCATED, WRONG_TYPE or UNKNOWN_ENUM.

    A cut-short answer to a call that is safe to repeat (a read, a server-side apply) is
    retried: the server answered and something between (a proxy, a dropped connection) lost
    the end, as with a 502. Other writes are not repeated: the change was made, and a repeated
    create would meet a 409 that reads as someone else's resource; the run stops and the next
    one observes the change. Wrong types and unknown values are the server's answer itself:
    asking again gives the same, so they are not retried."""
    message = f"{method} answered a malformed response ({problem}): {detail}"
    if problem == TRUNCATED and idempotent:
        return TruncatedResponseError(message)
    if problem == TRUNCATED:
        return MalformedResponseError(f"{message}; the change was likely made: run again to see it")
    return MalformedResponseError(message)


def in_context(error: MalformedResponseError | TruncatedResponseError, what: str) -> MlplatError:
    """The same error, its message prefixed with what mlplat was doing (`gke/cluster x: get`)."""
    if isinstance(error, TruncatedResponseError):
        return TruncatedResponseError(f"{what}: {error}", retry_after=error.retry_after)
    return MalformedResponseError(f"{what}: {error}")


def _display(file: Path) -> str:
    # abspath, not resolve: the file may be a symlink loop, which resolve() raises on
    try:
        return str(Path(os.path.abspath(file)).relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(file)
