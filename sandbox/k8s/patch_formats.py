"""PATCH bodies: JSON patch (RFC 6902), JSON merge patch (RFC 7386), strategic merge patch.

The strategic merge follows the built-in types' merge keys (containers and env by `name`,
volumeMounts by `mountPath`, ports by port, conditions by `type`…) and understands the
directives kubectl sends (`$patch`, `$retainKeys`, `$setElementOrder/…`,
`$deleteFromPrimitiveList/…`); every other list is replaced, as in Kubernetes.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.k8s.errors import StatusError
from sandbox.k8s.schemas import ANY, Schema

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
APPLY_PATCH_CBOR = "application/apply-patch+cbor"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


def _invalid(message: str) -> StatusError:
    return StatusError(422, "Invalid", message)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _invalid(f"the JSON pointer {path!r} does not start with /")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _container(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _invalid(f"doc is missing path: {path!r}")
    return node


def _index(node: list[Any], part: str, path: str, adding: bool) -> int:
    if adding and part == "-":
        return len(node)
    if not part.isdigit() or int(part) > len(node) - (0 if adding else 1):
        raise _invalid(f"unable to find index {part!r} of {path!r}")
    return int(part)


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    return copy.deepcopy(_container(doc, parts, path))


def _remove(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _invalid("cannot remove the whole document")
    parent = _container(doc, parts[:-1], path)
    if isinstance(parent, dict):
        if parts[-1] not in parent:
            raise _invalid(f"unable to remove nonexistent key: {parts[-1]}: missing value")
        return parent.pop(parts[-1])
    if isinstance(parent, list):
        return parent.pop(_index(parent, parts[-1], path, False))
    raise _invalid(f"doc is missing path: {path!r}")


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _container(doc, parts[:-1], path)
    if isinstance(parent, dict):
        if replace and parts[-1] not in parent:
            raise _invalid(f"replace operation does not apply: doc is missing key: {path}")
        parent[parts[-1]] = value
    elif isinstance(parent, list):
        index = _index(parent, parts[-1], path, not replace)
        if replace:
            parent[index] = value
        else:
            parent.insert(index, value)
    else:
        raise _invalid(f"doc is missing path: {path!r}")
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    """Apply an RFC 6902 patch to a copy of doc."""
    if not isinstance(operations, list):
        raise StatusError(400, "BadRequest", "a JSON patch must be a list of operations")
    result = copy.deepcopy(doc)
    for operation in operations:
        if not isinstance(operation, dict):
            raise _invalid("a JSON patch operation must be an object")
        op, path = operation.get("op"), str(operation.get("path", ""))
        if op == "add":
            result = _add(result, path, copy.deepcopy(operation.get("value")))
        elif op == "remove":
            _remove(result, path)
        elif op == "replace":
            result = _add(result, path, copy.deepcopy(operation.get("value")), replace=True)
        elif op in ("move", "copy"):
            source = str(operation.get("from", ""))
            value = _remove(result, source) if op == "move" else _get(result, source)
            result = _add(result, path, value)
        elif op == "test":
            if _get(result, path) != operation.get("value"):
                raise _invalid(f"testing value {path} failed: test failed")
        else:
            raise _invalid(f"Unexpected kind: {op}")
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch: maps merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


_DELETE = object()


def strategic_merge(original: Any, patch: Any, schema: Schema) -> Any:
    """Apply a strategic merge patch to original (a copy is returned)."""
    merged = _strategic(original, patch, schema)
    return {} if merged is _DELETE else merged


def _strategic(original: Any, patch: Any, schema: Schema) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    body = {k: v for k, v in patch.items() if not k.startswith("$")}
    if directive == "delete":
        return _DELETE
    if directive == "replace":
        return copy.deepcopy(body)
    result = dict(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            result[name] = [v for v in result.get(name) or [] if v not in (value or [])]
    for key, value in body.items():
        sub = schema.field(key) or ANY
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, sub)
        else:
            merged = _strategic(result.get(key), value, sub)
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(original: Any, patch: list[Any], schema: Schema) -> list[Any]:
    current = list(original) if isinstance(original, list) else []
    if any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [copy.deepcopy(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    if schema.list_set:
        return current + [copy.deepcopy(item) for item in patch if item not in current]
    if not schema.list_keys or schema.items is None:
        return copy.deepcopy(patch)
    key = schema.list_keys[0]
    for item in patch:
        if not isinstance(item, dict):
            continue
        found = next(
            (
                i
                for i, have in enumerate(current)
                if isinstance(have, dict) and have.get(key) == item.get(key)
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if found is not None:
                current.pop(found)
        elif found is None:
            current.append(strategic_merge({}, item, schema.items))
        else:
            current[found] = strategic_merge(current[found], item, schema.items)
    return current
