"""The JSON types of Kubernetes objects, from the official client's models.

Every built-in kind has a model in `kubernetes.client` (`v1` `Secret` → `V1Secret`) whose
`openapi_types` give each field's type (`str`, `Dict[str, str]`, `List[V1Container]`, another
model) and whose `attribute_map` gives its JSON name: enough to check that an answer's values
have the types Kubernetes guarantees. Custom resources are checked for what every object shares
(`metadata` as `V1ObjectMeta`, `spec` and `status` objects).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from kubernetes.client import models

from mlplat.errors import described

_MAX_DEPTH = 64
_LIST = re.compile(r"^[Ll]ist\[(.+)\]$")
_DICT = re.compile(r"^(?:[Dd]ict\[|dict\()[^,]+,\s*(.+)[\])]$")


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SCALARS: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "str": ("a string", _is_str),
    "bytes": ("a string", _is_str),  # base64 in JSON
    "datetime": ("a string", _is_str),
    "date": ("a string", _is_str),
    "bool": ("a boolean", lambda v: isinstance(v, bool)),
    "int": ("an integer", _is_int),
    "float": ("a number", _is_number),
    "object-map": ("an object", lambda v: isinstance(v, dict)),
}


class _Custom:
    """What every custom resource shares."""

    openapi_types: ClassVar[dict[str, str]] = {
        "api_version": "str",
        "kind": "str",
        "metadata": "V1ObjectMeta",
        "spec": "object-map",
        "status": "object-map",
    }
    attribute_map: ClassVar[dict[str, str]] = {
        "api_version": "apiVersion",
        "kind": "kind",
        "metadata": "metadata",
        "spec": "spec",
        "status": "status",
    }


def model_of(api_version: Any, kind: Any) -> str | None:
    """The name of the client's model of a built-in kind, None for other kinds."""
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    version = api_version.rsplit("/", 1)[-1]
    name = version[:1].upper() + version[1:] + kind
    return name if hasattr(models, name) else None


def type_problems(obj: dict[str, Any], where: str) -> list[str]:
    """Each value of the object whose JSON type is not the one of its field."""
    found: list[str] = []
    model = model_of(obj.get("apiVersion"), obj.get("kind"))
    _check(obj, model or "_Custom", where=where, found=found, depth=0)
    return found


def _check(value: Any, kind: str, *, where: str, found: list[str], depth: int) -> None:
    if value is None or kind == "object" or depth > _MAX_DEPTH:
        return  # `object`: int-or-string and other free values
    at = where or "the answer"
    if kind in _SCALARS:
        expected, fits = _SCALARS[kind]
        if not fits(value):
            found.append(f"{at}: expected {expected}, got {described(value)}")
        return
    listed, mapped = _LIST.match(kind), _DICT.match(kind)
    if listed is not None:
        if not isinstance(value, list):
            found.append(f"{at}: expected a list, got {described(value)}")
            return
        for index, item in enumerate(value):
            _check(item, listed.group(1), where=f"{where}[{index}]", found=found, depth=depth + 1)
        return
    if mapped is not None:
        if not isinstance(value, dict):
            found.append(f"{at}: expected an object, got {described(value)}")
            return
        for key, item in value.items():
            _check(item, mapped.group(1), where=f"{where}.{key}", found=found, depth=depth + 1)
        return
    _check_model(value, kind, where=where, found=found, depth=depth)


def _check_model(value: Any, kind: str, *, where: str, found: list[str], depth: int) -> None:
    model = _Custom if kind == "_Custom" else getattr(models, kind, None)
    if model is None:
        return  # a type this client version does not know: accepted
    if not isinstance(value, dict):
        found.append(f"{where or 'the answer'}: expected an object, got {described(value)}")
        return
    fields = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for key, item in value.items():
        if key in fields:  # a field the model does not know: accepted (newer servers)
            sub = f"{where}.{key}" if where else key
            _check(item, model.openapi_types[fields[key]], where=sub, found=found, depth=depth + 1)
