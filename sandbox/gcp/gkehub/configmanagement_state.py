"""GKE Hub (Fleet) v1: per-membership configmanagement state, from a Config Sync report.

The Config Sync simulator reports what it sees in a cluster as a `SyncReport`; this module
turns it into the `Feature.membershipStates[<membership name>]` value GKE Hub returns.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypedDict

from sandbox.gcp.container.naming import JSON

DEFAULT_ACM_VERSION = "1.22.1"  # Hub installs the latest when no version is given
_STATE_BY_SYNC_CODE = {
    "SYNCED": "OK",
    "PENDING": "OK",
    "NOT_CONFIGURED": "WARNING",
    "NOT_INSTALLED": "WARNING",
}


class SyncReport(TypedDict, total=False):
    """What the Config Sync simulator reports for one cluster (every key optional).

    `code` is a ConfigManagementSyncState code (SYNCED, PENDING, ERROR, …); `commit` becomes
    the source/import/sync tokens; `errors` are ConfigManagementSyncError dicts; `installed`
    and `policyControllerInstalled` say whether those components are up (default: installed
    unless `code` is NOT_INSTALLED).
    """

    code: str
    commit: str
    lastSyncTime: str
    errors: list[dict[str, Any]]
    installed: bool
    policyControllerInstalled: bool
    version: str


def membership_state(
    feature: Mapping[str, Any], membership: Mapping[str, Any], sync: SyncReport, *, now: str
) -> JSON:
    """The configmanagement MembershipFeatureState (`membershipStates[<name>]`) for a report."""
    spec = (
        feature.get("membershipSpecs", {}).get(membership["name"], {}).get("configmanagement", {})
    )
    version = sync.get("version") or spec.get("version") or DEFAULT_ACM_VERSION
    config_sync = spec.get("configSync", {})
    code = sync.get("code", "PENDING") if config_sync else "NOT_CONFIGURED"
    installed = sync.get("installed", code != "NOT_INSTALLED")
    deployed = "INSTALLED" if installed else "PENDING"
    sync_state: JSON = {"code": code}
    if sync.get("lastSyncTime"):
        sync_state["lastSyncTime"] = sync["lastSyncTime"]
    if sync.get("commit"):
        commit = sync["commit"]
        sync_state.update(sourceToken=commit, importToken=commit, syncToken=commit)
    if sync.get("errors"):
        sync_state["errors"] = copy.deepcopy(sync["errors"])
    components = ["gitSync", "reconcilerManager", "rootReconciler"]
    if config_sync.get("preventDrift"):
        components.append("admissionWebhook")
    state: JSON = {
        "clusterName": spec.get("cluster") or membership["name"].rsplit("/", 1)[-1],
        "membershipSpec": copy.deepcopy(spec),
        "operatorState": {"deploymentState": deployed, "version": version},
        "configSyncState": {
            "state": "CONFIG_SYNC_INSTALLED" if installed else "CONFIG_SYNC_PENDING",
            "deploymentState": dict.fromkeys(components, deployed),
            "version": dict.fromkeys(components, version),
            "syncState": sync_state,
            "rootsyncCrd": "INSTALLED" if installed else "INSTALLING",
            "reposyncCrd": "INSTALLED" if installed else "INSTALLING",
        },
    }
    if spec.get("policyController", {}).get("enabled"):
        gatekeeper = "INSTALLED" if sync.get("policyControllerInstalled", installed) else "PENDING"
        state["policyControllerState"] = {
            "deploymentState": {
                "gatekeeperAudit": gatekeeper,
                "gatekeeperControllerManagerState": gatekeeper,
            },
            "version": {"version": version},
        }
    errors = len(sync.get("errors", []))
    description = f"Config Sync reports {errors} error(s)" if errors else f"Config Sync {code}"
    health = _STATE_BY_SYNC_CODE.get(code, "ERROR")
    return {
        "state": {"code": health, "description": description, "updateTime": now},
        "configmanagement": state,
    }
