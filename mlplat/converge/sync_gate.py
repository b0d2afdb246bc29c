"""The readiness gate of GitOps: a RootSync or RepoSync has synced the commit mlplat pushed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import PermanentError, TransientError
from mlplat.gcp.waiting import poll
from mlplat.plan import Action, Change

CONFIG_SYNC = "configsync.gke.io/v1beta1"


def sync_errors(status: dict[str, Any]) -> str:
    """Config Sync's source, rendering and sync errors, as one line."""
    found = []
    for part in ("source", "rendering", "sync"):
        for error in status.get(part, {}).get("errors", []) or []:
            found.append(f"{error.get('code', '')} {error.get('errorMessage', '')}".strip())
    return "; ".join(found)


# KNV1xxx codes are validation errors of the commit's content: they stay until a new commit,
# except KNV1021 (a kind not served yet, e.g. while Policy Controller installs its CRDs).
_RETRIED_VALIDATION = {"1021"}


def invalid_commit(status: dict[str, Any]) -> bool:
    """The synced content itself is invalid: waiting will not help."""
    for part in ("source", "rendering", "sync"):
        for error in status.get(part, {}).get("errors", []) or []:
            code = str(error.get("code", ""))
            if code.startswith("1") and code not in _RETRIED_VALIDATION:
                return True
    return False


def settled(found: dict[str, Any] | None, commit: str) -> bool:
    """Synced at `commit` without errors (errors may clear: Config Sync retries, e.g. while
    Policy Controller is still installing the constraint kinds)."""
    status = (found or {}).get("status", {})
    return bool(status.get("lastSyncedCommit") == commit) and not sync_errors(status)


Read = Callable[[], dict[str, Any] | None]


def wait_synced(
    ctx: EnvContext, read: Read, kind: str, name: str, namespace: str, *, commit: str
) -> Outcome:
    """Wait until the RootSync/RepoSync (as `read` answers it) has synced `commit`; its errors
    fail the run."""
    gate = f"gate/{kind.lower()} {namespace}/{name}"
    last: dict[str, Any] = {}

    def fetch() -> dict[str, Any] | None:
        found = read()
        last["status"] = (found or {}).get("status", {})
        return found

    try:
        poll(
            f"{gate}: synced at {commit[:12]}",
            fetch,
            lambda obj: settled(obj, commit) or invalid_commit((obj or {}).get("status", {})),
            deadline=ctx.deadlines.sync,
        )
        if invalid_commit(last.get("status", {})):
            errors = sync_errors(last["status"])
            raise PermanentError(f"{gate}: the branch holds invalid content: {errors}")
    except TransientError as exc:
        errors = sync_errors(last.get("status", {}))
        if errors:
            raise PermanentError(f"{gate}: sync of {commit[:12]} failed: {errors}") from exc
        raise
    return report(
        ctx,
        Change(f"gate/{kind.lower()}", f"{namespace}/{name}", Action.NOOP),
        applied=False,
        detail=f"synced at {commit[:12]}",
    )
