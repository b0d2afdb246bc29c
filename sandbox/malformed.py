"""Corrupted answers for `malformed` fault rules (see `sandbox.faults`): a successful JSON body
truncated, one field given a value of the wrong JSON type, or an enum-like field given a value
no client knows."""

from __future__ import annotations

import json
from typing import Any

MALFORMED_KINDS = ("truncated", "wrong-type", "unknown-enum")
UNKNOWN_ENUM = "FROBNICATING"
_ENUM_KEYS = ("status", "state", "phase", "code", "lifecycleState")


def corrupt(kind: str, payload: Any, body: bytes, field: str | None = None) -> bytes | None:
    """`body` (whose JSON is `payload`) corrupted the `kind` way; None when it cannot be."""
    if kind == "truncated":
        return body[: len(body) // 2]
    copied = json.loads(json.dumps(payload))
    found = _pick(copied, field, enum=kind == "unknown-enum")
    if found is None:
        return None
    parent, key = found
    value = parent[key]
    if kind == "unknown-enum":
        parent[key] = UNKNOWN_ENUM
    elif isinstance(value, str):
        parent[key] = 12345
    else:  # object, list, number, boolean, null
        parent[key] = "malformed"
    return json.dumps(copied, indent=1).encode()


def _pick(payload: Any, field: str | None, *, enum: bool) -> tuple[Any, Any] | None:
    """(container, key) of the field to corrupt, or None."""
    if field is not None:
        return _at(payload, field.split("."), enum=enum)
    if enum:
        return _first_enum(payload)
    if not isinstance(payload, dict) or not payload:
        return None
    nested = [key for key, value in payload.items() if isinstance(value, dict | list)]
    return payload, (nested or list(payload))[0]


def _at(payload: Any, parts: list[str], *, enum: bool) -> tuple[Any, Any] | None:
    node = payload
    for index, part in enumerate(parts):
        key: Any = part
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return None
            key = int(part)
        elif not isinstance(node, dict) or part not in node:
            return None
        if index == len(parts) - 1:
            return None if enum and not isinstance(node[key], str) else (node, key)
        node = node[key]
    return None


def _first_enum(payload: Any) -> tuple[Any, Any] | None:
    """Breadth first: the first string-valued enum-like key."""
    level = [payload]
    while level:
        following: list[Any] = []
        for node in level:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in _ENUM_KEYS and isinstance(value, str):
                        return node, key
                following.extend(v for v in node.values() if isinstance(v, dict | list))
            elif isinstance(node, list):
                following.extend(v for v in node if isinstance(v, dict | list))
        level = following
    return None
