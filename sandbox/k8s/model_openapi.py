"""Built-in Kubernetes types as the structural OpenAPI v3 a CRD embeds (a PodTemplateSpec in a
RayCluster), derived from the official Python client's models: field names, types, required
fields, int-or-string values and list merge keys.

Descriptions are left out (they would multiply a CRD's size); `resource.Quantity` fields, which
the client types as `str`, are int-or-string as in the Go types.
"""

from __future__ import annotations

import copy
import functools
import importlib
import typing
from typing import Any

from sandbox.k8s.schemas import _LIST_KEYS_BY_ITEM

Obj = dict[str, Any]
INT_OR_STRING: Obj = {
    "anyOf": [{"type": "integer"}, {"type": "string"}],
    "x-kubernetes-int-or-string": True,
}
_QUANTITIES = frozenset({"limits", "requests", "overhead", "sizeLimit", "divisor"})
_SCALARS = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}
# controller-gen embeds only these ObjectMeta fields in a CRD's pod templates.
_TEMPLATE_METADATA = ("annotations", "finalizers", "labels", "name", "namespace")


def _models() -> Any:
    return importlib.import_module("kubernetes.client.models")


def _int_or_string(annotation: Any) -> bool:
    names = {getattr(a, "__name__", "") for a in _flatten(annotation)}
    return {"int", "str"} <= names


def _flatten(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if not args:
        return [annotation]
    if typing.get_origin(annotation) is typing.Annotated:
        return _flatten(args[0])
    return [leaf for arg in args for leaf in _flatten(arg)]


def _from_type(type_name: str, field_name: str, annotation: Any, seen: tuple[str, ...]) -> Obj:
    if type_name.startswith("List["):
        item = type_name[5:-1]
        found: Obj = {"type": "array", "items": _from_type(item, "", None, seen)}
        keys = _LIST_KEYS_BY_ITEM.get(item)
        if keys:
            found.update(
                {"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": list(keys)}
            )
        return found
    if type_name.startswith("Dict["):
        value = type_name.split(", ", 1)[1][:-1]
        values = INT_OR_STRING if field_name in _QUANTITIES else _from_type(value, "", None, seen)
        return {"type": "object", "additionalProperties": copy.deepcopy(values)}
    if field_name in _QUANTITIES:
        return copy.deepcopy(INT_OR_STRING)
    if type_name == "datetime":
        return {"type": "string", "format": "date-time"}
    if type_name in _SCALARS:
        return {"type": _SCALARS[type_name]}
    if type_name == "object":
        if annotation is not None and _int_or_string(annotation):
            return copy.deepcopy(INT_OR_STRING)
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return _model(type_name, seen)


def _model(name: str, seen: tuple[str, ...]) -> Obj:
    if name in seen:  # a recursive type: kept open, as controller-gen would not expand it
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    cls = getattr(_models(), name)
    properties: Obj = {}
    required: list[str] = []
    for attribute, type_name in cls.openapi_types.items():
        json_name = cls.attribute_map[attribute]
        info = cls.model_fields.get(attribute)
        annotation = info.annotation if info is not None else None
        properties[json_name] = _from_type(type_name, json_name, annotation, (*seen, name))
        if info is not None and info.is_required():
            required.append(json_name)
    found: Obj = {"type": "object", "properties": properties}
    if required:
        found["required"] = sorted(required)
    return found


@functools.cache
def _cached(model: str) -> Obj:
    return _model(model, ())


def model_openapi(model: str) -> Obj:
    """The structural schema of a client model (`V1PodSpec`, `V1Toleration`, …)."""
    return copy.deepcopy(_cached(model))


def pod_template() -> Obj:
    """A PodTemplateSpec as a CRD embeds it (template metadata limited as controller-gen does)."""
    template = model_openapi("V1PodTemplateSpec")
    metadata = model_openapi("V1ObjectMeta")["properties"]
    template["properties"]["metadata"] = {
        "type": "object",
        "properties": {name: metadata[name] for name in _TEMPLATE_METADATA},
    }
    return template
