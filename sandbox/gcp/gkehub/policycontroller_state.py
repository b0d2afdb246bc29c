"""GKE Hub (Fleet) v1: the `policycontroller` feature's state per membership.

The fleet simulator reports what Policy Controller shows in a cluster (`set_policy_report`);
`membership_state` turns it into `Feature.membershipStates[<name>]` as Hub returns it: a
lifecycle state (INSTALLING → ACTIVE; NOT_INSTALLED when the spec says so), per-component
states (admission, audit, mutation when enabled) and the policy content's states.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from sandbox.clock import rfc3339
from sandbox.gcp.container.naming import JSON
from sandbox.gcp.gkehub.sync_reports import canonical_name
from sandbox.runtime import Runtime

POLICY_REPORTS = "gkehub.policyReports"  # key: membership name (project number form)
ENABLED = "INSTALL_SPEC_ENABLED"


class PolicyReport(TypedDict, total=False):
    """What the fleet simulator sees of Policy Controller in one cluster (lifecycle states)."""

    state: str  # INSTALLING, ACTIVE, NOT_INSTALLED, DECOMMISSIONING
    templateLibrary: str
    bundles: dict[str, str]
    version: str


def set_policy_report(rt: Runtime, membership: str, report: PolicyReport) -> None:
    """Replace what Policy Controller reports for `membership` (ID or number form)."""
    doc = {"report": dict(report), "reportedAt": rfc3339(rt.now())}
    rt.store.put(POLICY_REPORTS, canonical_name(rt, membership), doc)


def policy_report(rt: Runtime, membership: str) -> tuple[PolicyReport | None, str | None]:
    """(report, when it was reported) for a membership; (None, None) before any."""
    doc = rt.store.get(POLICY_REPORTS, canonical_name(rt, membership))
    if doc is None:
        return None, None
    return doc["report"], doc["reportedAt"]


def forget_policy_report(rt: Runtime, membership: str) -> None:
    rt.store.delete(POLICY_REPORTS, canonical_name(rt, membership))


def hub_config(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The `policyControllerHubConfig` of a membership's policycontroller spec."""
    found = (spec.get("policycontroller") or {}).get("policyControllerHubConfig")
    return found if isinstance(found, Mapping) else {}


def wanted(spec: Mapping[str, Any]) -> bool:
    """Whether a membership spec asks for Policy Controller to be installed."""
    return hub_config(spec).get("installSpec") == ENABLED


def membership_state(spec: Mapping[str, Any], report: PolicyReport | None, *, now: str) -> JSON:
    """The policycontroller MembershipFeatureState for a membership's spec and report."""
    config = hub_config(spec)
    if not wanted(spec):
        lifecycle = (report or {}).get("state") or "NOT_INSTALLED"
        if lifecycle == "ACTIVE":
            lifecycle = "DECOMMISSIONING"
    else:
        lifecycle = (report or {}).get("state") or "INSTALLING"
    components = ["admission", "audit"] + (["mutation"] if config.get("mutationEnabled") else [])
    state: JSON = {"state": lifecycle}
    if lifecycle != "NOT_INSTALLED":
        state["componentStates"] = {name: {"state": lifecycle} for name in components}
        content = config.get("policyContent") or {}
        library = (content.get("templateLibrary") or {}).get("installation", "ALL")
        library_state = (report or {}).get("templateLibrary") or (
            "NOT_INSTALLED" if library == "NOT_INSTALLED" else lifecycle
        )
        bundles = (report or {}).get("bundles") or {}
        state["policyContentState"] = {
            "templateLibraryState": {"state": library_state},
            **(
                {
                    "bundleStates": {
                        name: {"state": bundles.get(name, lifecycle)}
                        for name in sorted(content.get("bundles") or {})
                    }
                }
                if content.get("bundles")
                else {}
            ),
        }
    health = "OK" if lifecycle in ("ACTIVE", "INSTALLING", "NOT_INSTALLED") else "WARNING"
    return {
        "state": {
            "code": health,
            "description": f"Policy Controller {lifecycle.lower().replace('_', ' ')}",
            "updateTime": now,
        },
        "policycontroller": state,
    }
