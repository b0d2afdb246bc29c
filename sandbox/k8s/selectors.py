"""Label selectors (`=`, `==`, `!=`, `in`, `notin`, exists, `!key`) and field selectors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.k8s.errors import bad_request

Obj = dict[str, Any]
Matcher = Callable[[Obj], bool]

_SET_OP = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\((.*)\)\s*$")
_EQ_OP = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s,()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")
_KEY = re.compile(
    r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)

# Field selectors each kind supports besides metadata.name and metadata.namespace.
_FIELDS = {
    "Pod": ("status.phase", "spec.nodeName", "spec.serviceAccountName"),
    "Event": (
        "involvedObject.kind",
        "involvedObject.name",
        "involvedObject.namespace",
        "involvedObject.uid",
        "reason",
        "type",
    ),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
}


def _split(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part for part in parts if part.strip()]


def _requirement(text: str) -> Callable[[dict[str, str]], bool]:
    match = _SET_OP.match(text)
    if match:
        key, op, raw = match.groups()
        values = {value.strip() for value in raw.split(",") if value.strip()}
        _check_key(key, text)
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    match = _EQ_OP.match(text)
    if match:
        key, op, value = match.groups()
        _check_key(key, text)
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    match = _EXISTS.match(text)
    if match:
        negated, key = match.groups()
        _check_key(key, text)
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: {text.strip()!r}")


def _check_key(key: str, text: str) -> None:
    if not _KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in {text!r}")


def label_matcher(selector: str) -> Matcher:
    """A predicate over objects for a labelSelector query string; raises 400 when malformed."""
    requirements = [_requirement(part) for part in _split(selector)]

    def matches(obj: Obj) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(requirement(labels) for requirement in requirements)

    return matches


def _field_value(obj: Obj, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def field_matcher(selector: str, kind: str) -> Matcher:
    """A predicate for a fieldSelector (`metadata.name=x,status.phase!=Failed`)."""
    checks: list[tuple[str, bool, str]] = []
    allowed = ("metadata.name", "metadata.namespace", *_FIELDS.get(kind, ()))
    for part in _split(selector):
        match = re.match(r"^\s*([^\s!=]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if match is None:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{part}'")
        path, op, value = match.groups()
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
        checks.append((path, op == "!=", value))

    def matches(obj: Obj) -> bool:
        return all((_field_value(obj, path) == value) != negated for path, negated, value in checks)

    return matches


def selector_matcher(label_selector: str, field_selector: str, kind: str) -> Matcher:
    """Both selectors at once; an empty selector matches everything."""
    labels = label_matcher(label_selector) if label_selector else None
    fields = field_matcher(field_selector, kind) if field_selector else None

    def matches(obj: Obj) -> bool:
        return (labels is None or labels(obj)) and (fields is None or fields(obj))

    return matches


def match_label_selector(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A structured LabelSelector (matchLabels, matchExpressions) against labels."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, op = expression.get("key", ""), expression.get("operator", "")
        values = set(expression.get("values") or [])
        present = key in labels
        if (
            (op == "In" and labels.get(key) not in values)
            or (op == "NotIn" and present and labels[key] in values)
            or (op == "Exists" and not present)
            or (op == "DoesNotExist" and present)
        ):
            return False
    return True
