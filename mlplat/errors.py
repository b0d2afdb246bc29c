"""mlplat's own error types; adapters translate library errors into these with `raise … from`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


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
    """A failure worth retrying (429, 5xx, deadline); `retry_after` in seconds when known."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _display(file: Path) -> str:
    try:
        return str(file.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(file)
