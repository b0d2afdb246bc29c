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


class DriftClass(StrEnum):
    CHANGED = "changed"
    MISSING = "missing"
    UNEXPECTED = "unexpected"
    SYNC_ERROR = "sync error"
    UNHEALTHY = "unhealthy"


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
                found.append(
                    Finding(
                        environment,
                        resource,
                        DriftClass.UNEXPECTED if unexpected else DriftClass.CHANGED,
                        field.path,
                        _show(field.expected),
                        _show(field.actual),
                    )
                )
    return found
