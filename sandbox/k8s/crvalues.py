"""A custom resource's values against its CRD's structural schema: defaults, then validation.

What kube-apiserver does after pruning unknown fields: `default`s fill absent fields, then
types, `required`, `enum` and `nullable` are checked, each failure a cause of one 422 Invalid
(`spec.x: Invalid value: "string": spec.x in body must be of type integer: "string"`). The
ratcheting is coarse: a failure the stored object shows too (same field, same message) passes.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from sandbox.k8s.errors import invalid
from sandbox.k8s.kinds import Kind
from sandbox.k8s.schemas import Schema

Obj = dict[str, Any]
_SERVER_OWNED = frozenset({"apiVersion", "kind", "metadata"})


def type_name(value: Any) -> str:
    """A JSON value's OpenAPI type name, as the validator prints it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_ok(value: Any, schema: Schema) -> bool:
    found = type_name(value)
    if schema.int_or_string:
        return found in ("integer", "string")
    if not schema.type:
        return True
    return found == schema.type or (schema.type == "number" and found == "integer")


def apply_defaults(value: Any, schema: Schema) -> None:
    """Fill absent fields that declare a `default`, in place, all the way down."""
    if isinstance(value, dict):
        for name, default in (schema.defaults or {}).items():
            if name not in value:
                value[name] = copy.deepcopy(default)
        for name, item in value.items():
            sub = schema.field(name)
            if sub is not None:
                apply_defaults(item, sub)
    elif isinstance(value, list) and schema.items is not None:
        for item in value:
            apply_defaults(item, schema.items)


def _problems(value: Any, schema: Schema, path: str, causes: list[tuple[str, str]]) -> None:
    if value is None and schema.nullable:
        return
    if not _type_ok(value, schema):
        wanted = "integer,string" if schema.int_or_string else schema.type
        found = type_name(value)
        message = f'Invalid value: "{found}": {path} in body must be of type {wanted}: "{found}"'
        causes.append((path, message))
        return
    if schema.enum and value not in schema.enum:
        allowed = ", ".join(json.dumps(v) for v in schema.enum)
        message = f"Unsupported value: {json.dumps(value)}: supported values: {allowed}"
        causes.append((path, message))
    if isinstance(value, dict):
        for name in schema.required:
            if name not in value:
                causes.append((f"{path}.{name}" if path else name, "Required value"))
        for name, item in value.items():
            sub = schema.field(name)
            if sub is not None and not (not path and name in _SERVER_OWNED):
                _problems(item, sub, f"{path}.{name}" if path else name, causes)
    elif isinstance(value, list) and schema.items is not None:
        for index, item in enumerate(value):
            _problems(item, schema.items, f"{path}[{index}]", causes)


def check_custom_resource(kind: Kind, obj: Obj, schema: Schema, old: Obj | None = None) -> None:
    """Default obj in place, then raise 422 Invalid listing every value its schema refuses.
    An update is not refused for what the stored object already had wrong (validation
    ratcheting, on by default since Kubernetes 1.30): a CRD's new schema does not lock its
    existing objects."""
    apply_defaults(obj, schema)
    causes: list[tuple[str, str]] = []
    _problems(obj, schema, "", causes)
    if causes and old is not None:
        before: list[tuple[str, str]] = []
        _problems(old, schema, "", before)
        causes = [cause for cause in causes if cause not in before]
    if causes:
        raise invalid(kind, str((obj.get("metadata") or {}).get("name", "")), causes)
