"""Kubernetes resource quantities (`100m`, `20G`, `1.5Gi`, `2`): as numbers, exactly with their
format (for the text Kubernetes prints), and a pod's requests."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, NamedTuple

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


class Quantity(NamedTuple):
    """An exact quantity and the format it was written in, as resource.Quantity keeps them:
    `BinarySI` (`Ki`…`Ei`), `DecimalSI` (`m`, `k`, `G`, or none) or `DecimalExponent` (`1e3`)."""

    value: Fraction
    format: str


ZERO = Quantity(Fraction(0), "DecimalSI")
_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}


def quantity(raw: object) -> Quantity:
    """A quantity from its text (or a JSON number); ValueError when it is not one."""
    if isinstance(raw, bool):
        raise ValueError(f"quantities must match the regular expression: {raw!r}")
    if isinstance(raw, int | float):
        return Quantity(Fraction(raw), "DecimalSI")
    match = _QUANTITY.match(str(raw).strip())
    if match is None or match.group(2) not in _SUFFIXES:
        raise ValueError(f"quantities must match the regular expression: {raw!r}")
    number, suffix = match.groups()
    mantissa, _, exponent = number.lower().partition("e")
    value = Fraction(mantissa) * Fraction(10) ** int(exponent or 0)
    if suffix.endswith("i"):
        return Quantity(value * 1024 ** _BINARY.index(suffix), "BinarySI")
    if exponent:
        return Quantity(value, "DecimalExponent")
    power = next(p for p, s in _DECIMAL.items() if s == suffix)
    return Quantity(value * Fraction(10) ** power, "DecimalSI")


def add(total: Quantity | None, more: Quantity) -> Quantity:
    """A sum, in the format of its first term (as Quantity.Add keeps the receiver's)."""
    return more if total is None else Quantity(total.value + more.value, total.format)


def canonical(q: Quantity) -> str:
    """Quantity.String(): the largest unit that keeps an integer mantissa (nano precision,
    rounded up); binary units only for whole numbers of at least 1024."""
    value, form = q.value, q.format
    if form == "BinarySI" and (abs(value) < 1024 or value.denominator != 1):
        form = "DecimalSI"
    sign = "-" if value < 0 else ""
    if form == "BinarySI":
        number, power = abs(value.numerator), 0
        while number and number % 1024 == 0 and power < len(_BINARY) - 1:
            number //= 1024
            power += 1
        return f"{sign}{number}{_BINARY[power]}"
    nanos = -((-abs(value) * 10**9) // 1)  # ceiling: Kubernetes rounds up to nano precision
    number, exponent = int(nanos), -9
    while number and number % 1000 == 0 and exponent < 18:
        number //= 1000
        exponent += 3
    if not number:
        return "0"
    if form == "DecimalExponent":
        return f"{sign}{number}e{exponent}" if exponent else f"{sign}{number}"
    return f"{sign}{number}{_DECIMAL[exponent]}"


def _container_quantities(container: Obj, field: str) -> dict[str, Quantity]:
    resources = container.get("resources") or {}
    values = dict(resources.get(field) or {})
    if field == "requests":  # a limit without a request is also the request
        for name, limit in (resources.get("limits") or {}).items():
            values.setdefault(name, limit)
    found: dict[str, Quantity] = {}
    for name, raw in values.items():
        try:
            found[name] = quantity(raw)
        except ValueError:
            continue
    return found


def pod_quantities(spec: Obj, field: str = "requests") -> dict[str, Quantity]:
    """pod_resources with exact values and formats (what ResourceQuota admission sums)."""
    total: dict[str, Quantity] = {}
    for container in spec.get("containers") or []:
        for name, value in _container_quantities(container, field).items():
            total[name] = add(total.get(name), value)
    for container in spec.get("initContainers") or []:
        for name, value in _container_quantities(container, field).items():
            if name not in total or value.value > total[name].value:
                total[name] = value
    return total
