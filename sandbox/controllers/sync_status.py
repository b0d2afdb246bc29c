"""A RootSync's or RepoSync's status, and the fleet's view of it, from its reconcile record."""

from __future__ import annotations

from typing import Any

from sandbox.clock import rfc3339
from sandbox.controllers.applier import Reconciler
from sandbox.controllers.gitsource import Source
from sandbox.controllers.statuspatch import conditions

Obj = dict[str, Any]
RENDERING_MESSAGE = "Rendering not required but is currently enabled"


def _summary(errors: list[Obj]) -> Obj:
    count = len(errors)
    return {"totalCount": count, "truncated": False, "errorCountAfterTruncation": count}


def source_errors(rec: Obj) -> list[Obj]:
    """Errors reading the source: fetching it, else parsing the attempted commit."""
    return [rec["fetchError"]] if rec.get("fetchError") else list(rec.get("sourceErrors") or [])


def _stage(git: Obj, commit: str, errors: list[Obj], stamp: str) -> Obj:
    stage: Obj = {"git": git, "lastUpdate": stamp}
    if commit:
        stage["commit"] = commit
    if errors:
        stage["errors"] = [e["status"] for e in errors]
        stage["errorSummary"] = _summary(errors)
    return stage


def _syncing(rec: Obj) -> Obj | None:
    src, sync = source_errors(rec), list(rec.get("syncErrors") or [])
    if rec.get("stalled"):
        return None
    base: Obj = {"type": "Syncing"}
    if src:
        commit = rec.get("attempted") or rec.get("seen") or ""
        refs = ["SourceError"]
        return {
            **base,
            "status": "False",
            "reason": "Source",
            "message": "Source",
            "commit": commit,
            "errorSourceRefs": refs,
            "errorSummary": _summary(src),
        }
    if rec.get("pending") or not rec.get("attempted"):
        commit = (rec.get("pending") or {}).get("commit") or rec.get("seen") or ""
        return {**base, "status": "True", "reason": "Sync", "message": "Syncing", "commit": commit}
    if sync:
        refs = ["SyncError"]
        return {
            **base,
            "status": "False",
            "reason": "Sync",
            "message": "Sync",
            "commit": rec["attempted"],
            "errorSourceRefs": refs,
            "errorSummary": _summary(sync),
        }
    return {
        **base,
        "status": "False",
        "reason": "Sync",
        "message": "Sync Completed",
        "commit": rec["synced"],
    }


def sync_status(obj: Obj, rec: Obj, source: Source, who: Reconciler, stamp: str) -> Obj:
    """The status Config Sync reports for the sync `obj` in the state `rec`."""
    git = source.status()
    old = obj.get("status") or {}
    status: Obj = {
        "observedGeneration": obj["metadata"].get("generation", 1),
        "reconciler": who.service_account,
        "source": _stage(git, rec.get("attempted", ""), source_errors(rec), stamp),
        "rendering": {
            **_stage(git, rec.get("attempted", ""), [], stamp),
            "message": RENDERING_MESSAGE,
        },
        "sync": _stage(git, rec.get("applied", ""), list(rec.get("syncErrors") or []), stamp),
    }
    if rec.get("synced"):
        status["lastSyncedCommit"] = rec["synced"]
    stalled = rec.get("stalled")
    wanted = [
        {
            "type": "Reconciling",
            "status": "False",
            "reason": "Deployment",
            "message": "Reconciler deployment is available",
        },
        {
            "type": "Stalled",
            "status": "True" if stalled else "False",
            "reason": "Validation" if stalled else "Deployment",
            "message": stalled["status"]["errorMessage"]
            if stalled
            else "Reconciler deployment is available",
        },
    ]
    syncing = _syncing(rec)
    if syncing is not None:
        wanted.append(syncing)
    status["conditions"] = conditions(old.get("conditions"), wanted, stamp)
    return status


def hub_report(rec: Obj | None, *, installed: bool, policy_installed: bool, version: str) -> Obj:
    """What the fleet's configmanagement feature shows for the cluster's `root-sync`."""
    report: Obj = {"installed": installed, "policyControllerInstalled": policy_installed}
    if version:
        report["version"] = version
    if not installed or rec is None:
        return {**report, "code": "PENDING"}
    errors = [rec["stalled"]] if rec.get("stalled") else []
    errors += source_errors(rec) + list(rec.get("syncErrors") or [])
    if rec.get("synced"):
        report["commit"] = rec["synced"]
        report["lastSyncTime"] = rfc3339(rec.get("syncedAt") or 0.0)
    if errors:
        return {**report, "code": "ERROR", "errors": [e["hub"] for e in errors]}
    if rec.get("pending") or not rec.get("synced") or rec.get("synced") != rec.get("seen"):
        return {**report, "code": "PENDING"}
    return {**report, "code": "SYNCED"}
