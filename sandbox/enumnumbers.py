"""Enum numbers of a Google API, read from its protobuf descriptors.

Clients send enums as numbers (`"channel": 2`), and discovery documents list enum names only,
in declaration order, which is not always number order (gaps, reordered values). The official
client packages register the API's descriptors; this reads the numbers from there and falls back
to discovery order when a message is not found.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from google.protobuf import descriptor_pool  # type: ignore[import-untyped]


class EnumNumbers:
    """Enum numbers for the messages of one proto package (e.g. `google.container.v1`)."""

    def __init__(self, proto_package: str, python_module: str) -> None:
        self.proto_package = proto_package
        self.python_module = python_module

    @functools.cached_property
    def _pool(self) -> Any:
        importlib.import_module(self.python_module)  # registers the descriptors
        return descriptor_pool.Default()

    @functools.cache  # noqa: B019 - one instance per API, kept for the process
    def _field(self, message: str, json_name: str) -> Any:
        try:
            descriptor = self._pool.FindMessageTypeByName(f"{self.proto_package}.{message}")
        except KeyError:
            return None
        for field in descriptor.fields:
            if field.json_name == json_name and field.enum_type is not None:
                return field
        return None

    def numbers(self, message: str, json_name: str) -> dict[int, str] | None:
        """{number: name} of the enum field `message.json_name`, or None when unknown."""
        field = self._field(message, json_name)
        if field is None:
            return None
        return {value.number: value.name for value in field.enum_type.values}

    def enum_type(self, message: str, json_name: str) -> str | None:
        """Full proto name of the field's enum type, for error messages."""
        field = self._field(message, json_name)
        return None if field is None else str(field.enum_type.full_name)
