"""What Config Sync reports per fleet membership, shown in the `configmanagement` feature.

The Config Sync simulator calls `set_sync_report` whenever what it sees in a cluster changes:

    from sandbox.gcp.gkehub.sync_reports import set_sync_report

    set_sync_report(rt, "projects/ml-dev/locations/global/memberships/gke-ml-dev",
                    {"code": "SYNCED", "commit": sha, "lastSyncTime": "2026-01-01T00:00:00Z"})

Until then a membership reports DEFAULT_REPORT (Config Sync installed, sync PENDING).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.clock import rfc3339
from sandbox.errors import invalid_argument
from sandbox.gcp.gkehub.configmanagement_state import SyncReport
from sandbox.gcp.gkehub.model import MEMBERSHIP_KEY
from sandbox.gcp.resourcemanager.projects import find, number_of
from sandbox.runtime import Runtime

SYNC_REPORTS = "gkehub.syncReports"  # key: membership name (project number form)
DEFAULT_REPORT: SyncReport = {"code": "PENDING", "installed": True}


def canonical_name(rt: Runtime, membership: str) -> str:
    """`projects/<number>/locations/<l>/memberships/<id>` for a name using the ID or number."""
    found = MEMBERSHIP_KEY.fullmatch(membership)
    project = find(rt, found.group(1)) if found else None
    if found is None or project is None:
        raise invalid_argument(f"Not a membership of a known project: {membership!r}.")
    return f"projects/{number_of(project)}/locations/{found.group(2)}/memberships/{found.group(3)}"


def set_sync_report(rt: Runtime, membership: str, report: SyncReport) -> None:
    """Replace what Config Sync reports for `membership` (its name, with project ID or number);
    the configmanagement feature's membershipStates show it from now on."""
    doc: dict[str, Any] = {"report": dict(report), "reportedAt": rfc3339(rt.now())}
    rt.store.put(SYNC_REPORTS, canonical_name(rt, membership), doc)


def sync_report(rt: Runtime, membership: str) -> tuple[SyncReport, str | None]:
    """(report, when it was reported) for a membership; DEFAULT_REPORT and None if none yet."""
    doc = rt.store.get(SYNC_REPORTS, canonical_name(rt, membership))
    if doc is None:
        return copy.deepcopy(DEFAULT_REPORT), None
    return doc["report"], doc["reportedAt"]


def forget_sync_report(rt: Runtime, membership: str) -> None:
    """Drop the report of a membership (when it is deleted)."""
    rt.store.delete(SYNC_REPORTS, canonical_name(rt, membership))
