"""Field paths as managedFields names them (`f:spec`, `k:{"name":"app"}`, `v:"x"`), FieldsV1.

A field set is a set of paths; a path is a tuple of elements. Leaves are owned fields; the path
of an associative list item is in the set too (FieldsV1 marks it with `"."`).
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.k8s.schemas import ANY, KEY_DEFAULTS, Schema, item_key

Path = tuple[str, ...]
FieldSet = set[Path]
MISSING = object()


def field_set(value: Any, schema: Schema, prefix: Path = ()) -> FieldSet:
    """Every owned path of value: leaves, plus the items of associative lists and sets."""
    if isinstance(value, dict) and value:
        found: FieldSet = set()
        for name, sub in value.items():
            found |= field_set(sub, schema.field(name) or ANY, (*prefix, f"f:{name}"))
        return found
    if isinstance(value, list) and value and schema.list_set:
        return {(*prefix, "v:" + json.dumps(item, separators=(",", ":"))) for item in value}
    if isinstance(value, list) and value and schema.list_keys and schema.items is not None:
        found = set()
        for item in value:
            path = (*prefix, "k:" + item_key(item, schema.list_keys))
            found.add(path)
            found |= field_set(item, schema.items, path)
        return found
    return {prefix} if prefix else set()


def to_fields_v1(paths: FieldSet) -> dict[str, Any]:
    """The FieldsV1 tree of a field set."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return root


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> FieldSet:
    """The field set of a FieldsV1 tree."""
    found: FieldSet = set()
    for element, sub in tree.items():
        if element == ".":
            found.add(prefix)
        elif isinstance(sub, dict) and sub:
            found |= from_fields_v1(sub, (*prefix, element))
        else:
            found.add((*prefix, element))
    return found


def _matches(item: Any, element: str) -> bool:
    if element.startswith("k:"):
        wanted = json.loads(element[2:])
        return isinstance(item, dict) and all(
            item.get(key, KEY_DEFAULTS.get(key)) == value for key, value in wanted.items()
        )
    return element.startswith("v:") and item == json.loads(element[2:])


def value_at(obj: Any, path: Path) -> Any:
    """The value at a path, or `MISSING`."""
    node = obj
    for element in path:
        if element.startswith("f:") and isinstance(node, dict):
            node = node.get(element[2:], MISSING)
        elif isinstance(node, list):
            node = next((item for item in node if _matches(item, element)), MISSING)
        else:
            return MISSING
        if node is MISSING:
            return MISSING
    return node


def remove_at(obj: Any, path: Path) -> None:
    """Delete the field or list item at a path (nothing when absent)."""
    if not path:
        return
    parent = value_at(obj, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and last.startswith("f:"):
        parent.pop(last[2:], None)
    elif isinstance(parent, list):
        parent[:] = [item for item in parent if not _matches(item, last)]


def dotted(path: Path) -> str:
    """A path as conflict messages print it: `.spec.containers[name="app"].image`."""
    text = ""
    for element in path:
        if element.startswith("f:"):
            text += "." + element[2:]
        elif element.startswith("k:"):
            keys = json.loads(element[2:])
            text += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in keys.items()) + "]"
        else:
            text += f"[={element[2:]}]"
    return text
