"""Desired vs observed: what to do with one resource, comparing only the fields we declare.

The comparison is left-scoped: every leaf of the desired body is looked up in the observed one;
fields only the server sets (defaults, status, fingerprints) are never compared, so a freshly
created resource plans as a no-op. Values are normalized the way Google's JSON differs from
ours: int64 as strings, absent meaning the default (0, false, "", empty list or map).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mlplat.errors import ReplacementRequired

Path = tuple[str, ...]


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    NOOP = "noop"
    DELETE = "delete"


@dataclass(frozen=True)
class FieldChange:
    """One declared field whose observed value differs from the desired one."""

    path: str
    expected: Any
    actual: Any


@dataclass(frozen=True)
class Change:
    """What a run will do with one resource (`kind` like `gke/cluster`, `name` like `ml-dev`)."""

    kind: str
    name: str
    action: Action
    fields: tuple[FieldChange, ...] = ()
    desired: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def describe(self) -> str:
        """One log line: `gke/cluster ml-dev: update (2 fields: a, b)`."""
        if self.action is Action.UPDATE:
            names = ", ".join(change.path for change in self.fields)
            count = len(self.fields)
            return f"{self.kind} {self.name}: update ({count} field{'s' * (count != 1)}: {names})"
        return f"{self.kind} {self.name}: {self.action.value}"

    def changed(self, prefix: str) -> bool:
        """Whether any changed field lies at or under the dotted `prefix`."""
        return any(
            change.path == prefix or change.path.startswith(prefix + ".") for change in self.fields
        )


def plan(
    kind: str,
    name: str,
    desired: Mapping[str, Any],
    observed: Mapping[str, Any] | None,
    *,
    immutable: Collection[str] = (),
) -> Change:
    """Plan one resource; raises ReplacementRequired when an immutable declared field differs."""
    if observed is None:
        return Change(kind, name, Action.CREATE, desired=desired)
    differences = tuple(diff(desired, observed))
    frozen = [
        change
        for change in differences
        if any(change.path == p or change.path.startswith(p + ".") for p in immutable)
    ]
    if frozen:
        details = "; ".join(f"{c.path}: {_show(c.actual)} → {_show(c.expected)}" for c in frozen)
        raise ReplacementRequired(
            f"{kind} {name} would need to be replaced to change immutable field(s): {details}. "
            "mlplat never deletes to re-create: change the spec back, or tear the resource down "
            "on purpose first."
        )
    action = Action.UPDATE if differences else Action.NOOP
    return Change(kind, name, action, differences, desired=desired)


def diff(desired: Any, observed: Any, path: Path = ()) -> list[FieldChange]:
    """Left-scoped differences: only what `desired` declares is compared."""
    if isinstance(desired, Mapping):
        observed_map = observed if isinstance(observed, Mapping) else {}
        changes: list[FieldChange] = []
        for key, value in desired.items():
            changes.extend(diff(value, observed_map.get(key), (*path, str(key))))
        return changes
    if _equal(desired, observed):
        return []
    return [FieldChange(".".join(path), desired, observed)]


def _equal(desired: Any, observed: Any) -> bool:
    if observed is None:
        return _is_default(desired)
    if isinstance(desired, bool) or isinstance(observed, bool):
        return bool(desired) == bool(observed) and type(desired) is type(observed)
    if isinstance(desired, int | str) and isinstance(observed, int | str):
        return _canonical(desired) == _canonical(observed)
    if isinstance(desired, list | tuple) and isinstance(observed, list | tuple):
        return len(desired) == len(observed) and all(
            not diff(d, o) if isinstance(d, Mapping) else _equal(d, o)
            for d, o in zip(desired, observed, strict=True)
        )
    if isinstance(desired, float) or isinstance(observed, float):
        try:
            return float(desired) == float(observed)
        except (TypeError, ValueError):
            return False
    return bool(desired == observed)


def _canonical(value: int | str) -> str:
    """int64 travels as a string in Google's JSON: 3 and "3" are the same value; a full
    resource URL (selfLink) and its relative name are the same resource."""
    text = str(value)
    if text.startswith(("https://", "http://")) and "/projects/" in text:
        return text[text.index("/projects/") + 1 :]
    return text


def _is_default(value: Any) -> bool:
    return value in (None, 0, "", False, (), [], {})


def _show(value: Any) -> str:
    return "(unset)" if value is None else repr(value)
