"""Writing status the way controllers do: only when it changed, keeping transition times."""

from __future__ import annotations

from typing import Any

from sandbox.k8s.inprocess_client import ClusterApi

Obj = dict[str, Any]
TIME_KEYS = frozenset({"lastUpdate", "lastUpdateTime", "lastTransitionTime", "lastProbeTime"})


def without_times(value: Any) -> Any:
    """value with every timestamp key dropped (what a change is judged on)."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [without_times(item) for item in value]
    return value


def merge_diff(old: Any, new: Any) -> Any:
    """The JSON merge patch turning old into new (removed keys become null)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: Obj = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = merge_diff(old[key], value)
    return patch


def conditions(
    old: list[Obj] | None, new: list[Obj], now: str, *, update_time: bool = True
) -> list[Obj]:
    """New conditions timestamped: lastTransitionTime kept while a condition's status holds,
    lastUpdateTime (when wanted) while it is unchanged."""
    previous = {c.get("type"): c for c in old or []}
    stamped = []
    for condition in new:
        before = previous.get(condition["type"]) or {}
        held = before.get("status") == condition.get("status")
        stamp = dict(condition)
        stamp["lastTransitionTime"] = before.get("lastTransitionTime", now) if held else now
        if update_time:
            same = without_times(before) == without_times(condition)
            stamp["lastUpdateTime"] = before.get("lastUpdateTime", now) if same else now
        stamped.append(stamp)
    return stamped


def write_status(api: ClusterApi, obj: Obj, status: Obj) -> bool:
    """Merge-patch obj's status to `status` when it differs (timestamps aside); True if written."""
    current = obj.get("status") or {}
    if without_times(current) == without_times(status):
        return False
    metadata = obj["metadata"]
    api.patch_status(
        obj["apiVersion"],
        obj["kind"],
        metadata["name"],
        merge_diff(current, status),
        namespace=metadata.get("namespace", ""),
    )
    return True
