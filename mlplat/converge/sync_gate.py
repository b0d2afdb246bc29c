"""The readiness gate of GitOps: a RootSync or RepoSync has synced the commit mlplat pushed."""

from __future__ import annotations

from typing import Any

from kubernetes.dynamic import DynamicClient

from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import PermanentError
from mlplat.gcp.waiting import poll
from mlplat.k8s import objects as k8s
from mlplat.plan import Action, Change

CONFIG_SYNC = "configsync.gke.io/v1beta1"


def sync_errors(status: dict[str, Any]) -> str:
    """Config Sync's source, rendering and sync errors, as one line."""
    found = []
    for part in ("source", "rendering", "sync"):
        for error in status.get(part, {}).get("errors", []) or []:
            found.append(f"{error.get('code', '')} {error.get('errorMessage', '')}".strip())
    return "; ".join(found)


def settled(found: dict[str, Any] | None, commit: str) -> bool:
    """Synced at `commit`, or done trying it with errors."""
    status = (found or {}).get("status", {})
    if sync_errors(status) and status.get("sync", {}).get("commit") == commit:
        return True
    return bool(status.get("lastSyncedCommit") == commit)


def wait_synced(
    ctx: EnvContext, api: DynamicClient, kind: str, name: str, namespace: str, *, commit: str
) -> Outcome:
    """Wait until the RootSync/RepoSync has synced `commit`; its errors fail the run."""
    gate = f"gate/{kind.lower()} {namespace}/{name}"
    found = poll(
        f"{gate}: synced at {commit[:12]}",
        lambda: k8s.get(api, CONFIG_SYNC, kind, name, namespace),
        lambda obj: settled(obj, commit),
        deadline=ctx.deadlines.sync,
    )
    errors = sync_errors((found or {}).get("status", {}))
    if errors:
        raise PermanentError(f"{gate}: sync of {commit[:12]} failed: {errors}")
    return report(
        ctx,
        Change(f"gate/{kind.lower()}", f"{namespace}/{name}", Action.NOOP),
        applied=False,
        detail=f"synced at {commit[:12]}",
    )
