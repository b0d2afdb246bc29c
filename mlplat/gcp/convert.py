"""Proto-plus messages ↔ the camelCase JSON dicts that render and plan work with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import proto

M = TypeVar("M", bound=proto.Message)


def to_dict(message: proto.Message) -> dict[str, Any]:
    """The message as Google's JSON: camelCase, enum names, int64 as strings, defaults omitted."""
    text = type(message).to_json(message, use_integers_for_enums=False, indent=None)
    result: dict[str, Any] = json.loads(text)
    return result


def from_dict(message_type: type[M], body: Mapping[str, Any]) -> M:
    """A message from camelCase JSON; an unknown field is an error, never dropped silently."""
    message: M = message_type.from_json(json.dumps(body), ignore_unknown_fields=False)
    return message
