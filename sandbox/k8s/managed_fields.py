"""Server-side apply and field ownership: managedFields for Apply and Update operations.

Approximates structured-merge-diff: an applier owns the fields of its applied configuration;
applying a different value to a field another manager owns is a 409 conflict unless forced;
fields an applier stops applying are removed unless someone else still owns them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from sandbox.k8s.errors import StatusError
from sandbox.k8s.fieldsets import (
    MISSING,
    FieldSet,
    Path,
    dotted,
    field_set,
    from_fields_v1,
    remove_at,
    to_fields_v1,
    value_at,
)
from sandbox.k8s.schemas import Schema, item_key

Obj = dict[str, Any]
_SERVER_METADATA = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)


@dataclass
class Entry:
    """One managedFields entry."""

    manager: str
    operation: str  # Apply | Update
    api_version: str
    time: str
    subresource: str = ""
    paths: FieldSet = field(default_factory=set)

    def same_owner(self, manager: str, operation: str, subresource: str) -> bool:
        return (self.manager, self.operation, self.subresource) == (
            manager,
            operation,
            subresource,
        )

    def describe(self) -> str:
        """How conflict messages name the manager."""
        text = f'"{self.manager}"'
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version} at {self.time}"
        return text


def entries_of(obj: Obj | None) -> list[Entry]:
    """The managedFields of an object."""
    found = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        found.append(
            Entry(
                manager=str(raw.get("manager", "")),
                operation=str(raw.get("operation", "Update")),
                api_version=str(raw.get("apiVersion", "")),
                time=str(raw.get("time", "")),
                subresource=str(raw.get("subresource", "")),
                paths=from_fields_v1(raw.get("fieldsV1") or {}),
            )
        )
    return found


def encode(entries: list[Entry]) -> list[Obj]:
    """managedFields from entries, dropping those that own nothing."""
    encoded = []
    for entry in entries:
        if not entry.paths:
            continue
        raw: Obj = {
            "manager": entry.manager,
            "operation": entry.operation,
            "apiVersion": entry.api_version,
            "time": entry.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(entry.paths),
        }
        if entry.subresource:
            raw["subresource"] = entry.subresource
        encoded.append(raw)
    return encoded


def tracked(obj: Obj, subresource: str, has_status: bool) -> Obj:
    """The part of an object whose fields are owned through this endpoint."""
    if subresource == "status":
        return {"status": copy.deepcopy(obj.get("status"))} if "status" in obj else {}
    kept = {k: copy.deepcopy(v) for k, v in obj.items() if k not in ("apiVersion", "kind")}
    if has_status:
        kept.pop("status", None)
    metadata = {k: v for k, v in (kept.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    if metadata:
        kept["metadata"] = metadata
    else:
        kept.pop("metadata", None)
    return kept


def record_update(
    old: Obj | None,
    new: Obj,
    *,
    manager: str,
    api_version: str,
    now: str,
    schema: Schema,
    subresource: str = "",
    has_status: bool = False,
) -> list[Obj]:
    """managedFields after a create, update or patch by `manager`.

    Fields the write changed move to the manager's Update entry; fields no longer present
    leave every entry.
    """
    new_paths = field_set(tracked(new, subresource, has_status), schema)
    changed = {path for path in new_paths if _changed(old, new, path)}
    entries = entries_of(old)
    present = new_paths | field_set(tracked(new, "status", has_status), schema)
    present |= field_set(tracked(new, "", has_status), schema)
    for entry in entries:
        entry.paths &= present
        if not entry.same_owner(manager, "Update", subresource):
            entry.paths -= changed
    if changed:
        mine = next((e for e in entries if e.same_owner(manager, "Update", subresource)), None)
        if mine is None:
            mine = Entry(manager, "Update", api_version, now, subresource)
            entries.append(mine)
        mine.paths |= changed
        mine.time, mine.api_version = now, api_version
    return encode(entries)


def _changed(old: Obj | None, new: Obj, path: Path) -> bool:
    if old is None:
        return True
    before = value_at(old, path)
    if path[-1].startswith(("k:", "v:")):
        return before is MISSING  # an item is owned by whoever added it
    return bool(before != value_at(new, path))


def _merge(live: Any, applied: Any, schema: Schema | None) -> Any:
    if isinstance(live, dict) and isinstance(applied, dict):
        merged = dict(live)
        for name, value in applied.items():
            sub = schema.field(name) if schema is not None else None
            merged[name] = _merge(live.get(name), value, sub)
        return merged
    if isinstance(live, list) and isinstance(applied, list) and schema is not None:
        if schema.list_set:
            return live + [item for item in applied if item not in live]
        if schema.list_keys:
            keys = schema.list_keys
            incoming = {item_key(item, keys): item for item in applied}
            merged_items = [
                _merge(item, incoming.pop(item_key(item, keys)), schema.items)
                if item_key(item, keys) in incoming
                else item
                for item in live
            ]
            return merged_items + list(incoming.values())
    return copy.deepcopy(applied)


def _conflict_error(conflicts: list[tuple[Entry, Path]]) -> StatusError:
    causes = [
        {
            "type": "FieldManagerConflict",
            "message": f"conflict with {entry.describe()}",
            "field": dotted(path),
        }
        for entry, path in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {dotted(path)}"
    else:
        lines = []
        for described in sorted({entry.describe() for entry, _ in conflicts}):
            lines.append(f"conflicts with {described}:")
            lines += [f"- {dotted(p)}" for e, p in conflicts if e.describe() == described]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return StatusError(409, "Conflict", message, {"causes": causes})


def server_side_apply(
    live: Obj | None,
    applied: Obj,
    *,
    manager: str,
    api_version: str,
    now: str,
    schema: Schema,
    subresource: str = "",
    has_status: bool = False,
    force: bool = False,
) -> Obj:
    """The object after `manager` applies a configuration (live None: created by it).

    Raises a 409 Conflict naming the managers and fields in conflict unless forced.
    """
    config = tracked(applied, subresource, has_status)
    applied_paths = field_set(config, schema)
    entries = entries_of(live)
    mine = next((e for e in entries if e.same_owner(manager, "Apply", subresource)), None)
    previous = set(mine.paths) if mine is not None else set()
    base: Obj = copy.deepcopy(live) if live is not None else {}
    conflicts = [
        (entry, path)
        for entry in entries
        if entry is not mine
        for path in sorted(entry.paths & applied_paths)
        if not path[-1].startswith(("k:", "v:")) and value_at(base, path) != value_at(config, path)
    ]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry, path in conflicts:
        entry.paths.discard(path)
    others = [e for e in entries if e is not mine]
    for path in sorted(previous - applied_paths, key=len, reverse=True):
        if not any(p[: len(path)] == path for e in others for p in e.paths):
            remove_at(base, path)
            _drop_empty_parents(base, path, others)
    merged = _merge(base, config, schema)
    if mine is None:
        mine = Entry(manager, "Apply", api_version, now, subresource)
        entries.append(mine)
    mine.paths, mine.time, mine.api_version = applied_paths, now, api_version
    merged.setdefault("metadata", {})["managedFields"] = encode(entries)
    return dict(merged)


def _drop_empty_parents(obj: Obj, path: Path, others: list[Entry]) -> None:
    for depth in range(len(path) - 1, 1, -1):
        parent = path[:depth]
        value = value_at(obj, parent)
        owned = any(p[:depth] == parent for e in others for p in e.paths)
        if value is MISSING or value or owned:
            return
        remove_at(obj, parent)
