"""Drift findings: what differs between the spec and what is there, classified, from the
outcomes of a dry run (so drift uses the very comparison that provisioning uses, and a freshly
provisioned platform reports nothing)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from mlplat.converge.context import Outcome
from mlplat.plan import Action
from mlplat.render.desired import ENVIRONMENT_LABEL, MANAGED_BY_LABEL, PLATFORM_LABEL

PROJECT_MEMBER = "iam/project-member"  # an unmanaged finding's resource: `PROJECT_MEMBER member`
# Reported, never pruned: removing an owner the caller could not be matched to (a person, or
# the creator where the credentials do not say who they are) may lock people out.
KEPT_ROLES = frozenset({"roles/owner"})


def prunable(finding: dict[str, Any]) -> bool:
    """An unmanaged finding (as `Finding.row` gives it) that `prune` deletes."""
    if finding["drift"] != DriftClass.UNMANAGED.value:
        return False
    return not (finding["resource"].startswith(PROJECT_MEMBER) and finding["field"] in KEPT_ROLES)


class DriftClass(StrEnum):
    CHANGED = "changed"
    MISSING = "missing"
    UNEXPECTED = "unexpected"
    SYNC_ERROR = "sync error"
    UNHEALTHY = "unhealthy"
    # mlplat's ownership mark (labels, or a Compute resource's description note) edited by hand
    LABELS_CHANGED = "labels changed"
    # inside what mlplat owns, but declared by no spec: only `--prune` deletes it
    UNMANAGED = "unmanaged"


_OWNERSHIP_KEYS = (MANAGED_BY_LABEL, PLATFORM_LABEL, ENVIRONMENT_LABEL)


def is_ownership_field(kind: str, path: str) -> bool:
    """Whether a changed field is mlplat's ownership mark: one of its labels (on a project,
    cluster, membership or node pool), or the note in a Compute resource's description."""
    parts = path.split(".")
    if kind.startswith("compute/"):
        return path == "description"
    return (
        len(parts) >= 2
        and parts[-2] in ("labels", "resourceLabels")
        and (parts[-1] in _OWNERSHIP_KEYS)
    )


@dataclass(frozen=True)
class Finding:
    """One difference: where, what kind, which field, what the spec wants and what is there."""

    environment: str
    resource: str
    drift: DriftClass
    field: str = ""
    expected: str = ""
    actual: str = ""

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "drift": self.drift.value}


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def findings(environment: str, outcomes: Iterable[Outcome]) -> list[Finding]:
    """Classify the outcomes of a dry run of one environment."""
    found: list[Finding] = []
    for outcome in outcomes:
        change = outcome.change
        resource = f"{change.kind} {change.name}"
        if change.action is Action.CREATE:
            found.append(Finding(environment, resource, DriftClass.MISSING))
        elif change.action is Action.UPDATE:
            for field in change.fields:
                unexpected = field.expected is None and field.actual is not None
                if is_ownership_field(change.kind, field.path):
                    drift = DriftClass.LABELS_CHANGED
                else:
                    drift = DriftClass.UNEXPECTED if unexpected else DriftClass.CHANGED
                found.append(
                    Finding(
                        environment,
                        resource,
                        drift,
                        field.path,
                        _show(field.expected),
                        _show(field.actual),
                    )
                )
    return found
