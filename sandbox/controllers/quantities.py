"""Kubernetes resource quantities (`100m`, `20G`, `1.5Gi`, `2`) as numbers, and pod requests."""

from __future__ import annotations

import re
from typing import Any

Obj = dict[str, Any]
_SUFFIXES = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def parse_quantity(value: object) -> float:
    """The number a quantity stands for; ValueError when it is not one."""
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueError(f"quantities must match the regular expression: {value!r}")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def format_quantity(name: str, value: float) -> str:
    """A number shown as Kubernetes would for a resource (cpu in m when fractional)."""
    if name.endswith("cpu") and value != int(value):
        return f"{round(value * 1000)}m"
    if value == int(value):
        return str(int(value))
    return f"{value:g}"


def _resources(container: Obj, field: str) -> dict[str, float]:
    found: dict[str, float] = {}
    resources = container.get("resources") or {}
    limits = resources.get("limits") or {}
    values = dict(resources.get(field) or {})
    if field == "requests":  # a limit without a request is also the request
        for name, limit in limits.items():
            values.setdefault(name, limit)
    for name, raw in values.items():
        try:
            found[name] = parse_quantity(raw)
        except ValueError:
            continue
    return found


def pod_resources(spec: Obj, field: str = "requests") -> dict[str, float]:
    """A pod's effective requests (or limits): the sum over containers, at least each init
    container's."""
    total: dict[str, float] = {}
    for container in spec.get("containers") or []:
        for name, value in _resources(container, field).items():
            total[name] = total.get(name, 0.0) + value
    for container in spec.get("initContainers") or []:
        for name, value in _resources(container, field).items():
            total[name] = max(total.get(name, 0.0), value)
    return total
