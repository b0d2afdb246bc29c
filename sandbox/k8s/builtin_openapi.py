"""Built-in kinds as kube-apiserver publishes them in OpenAPI v3: named component schemas
(`io.k8s.api.apps.v1.DeploymentSpec`) with descriptions, types, required fields and `$ref`s,
each kind's tagged with `x-kubernetes-group-version-kind` — what `kubectl explain` walks.

Derived from the official Python client's models (their field descriptions are Kubernetes'
own; the client drops those of fields whose type is a model, so only the type's is shown).
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any

from sandbox.k8s.enums import ENUMS
from sandbox.k8s.kinds import Kind
from sandbox.k8s.model_openapi import _QUANTITIES, _int_or_string
from sandbox.k8s.protobuf_fields import FIELDS
from sandbox.k8s.schemas import _LIST_KEYS_BY_ITEM

Obj = dict[str, Any]
_META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_META_TYPES = frozenset(
    {
        "ObjectMeta",
        "ListMeta",
        "LabelSelector",
        "LabelSelectorRequirement",
        "ManagedFieldsEntry",
        "OwnerReference",
        "Condition",
        "Status",
        "StatusDetails",
        "StatusCause",
        "DeleteOptions",
        "Preconditions",
        "FieldSelectorRequirement",
    }
)
_VERSION_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*V\d+(?:alpha\d+|beta\d+)?(?=[A-Z])")
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
TIME = f"{_META}.Time"
_SPECIAL: dict[str, Obj] = {
    QUANTITY: {
        "description": "Quantity is a fixed-point representation of a number (`1`, `500m`, "
        "`2Gi`); it serializes to a string.",
        "type": "string",
    },
    INT_OR_STRING: {
        "description": "IntOrString is a type that can hold an int32 or a string.",
        "type": "string",
        "format": "int-or-string",
    },
    TIME: {
        "description": "Time is a wrapper around time.Time which supports correct marshaling "
        "to YAML and JSON, as an RFC 3339 date.",
        "type": "string",
        "format": "date-time",
    },
}


def go_name(model: str) -> str:
    """`V1DeploymentSpec` -> `DeploymentSpec`, `CoreV1Event` -> `Event`."""
    return _VERSION_PREFIX.sub("", model)


def _package(group: str) -> str:
    if group == "apiextensions.k8s.io":
        return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"
    return f"io.k8s.api.{group.split('.', maxsplit=1)[0] or 'core'}.v1"


@functools.cache
def _proto_messages() -> frozenset[str]:
    return frozenset(line.split()[0] for line in FIELDS.splitlines() if line[:1].isalpha())


def schema_name(model: str, group: str) -> str:
    """The component name of a client model reached from a kind of `group`."""
    name = go_name(model)
    if name in _META_TYPES:
        return f"{_META}.{name}"
    home = group.split(".", maxsplit=1)[0] or "core"
    for package in (home, "core"):
        if f"{package}.{name}" in _proto_messages():
            return f"{_package('' if package == 'core' else group)}.{name}"
    return f"{_package(group)}.{name}"


def _model_class(model: str) -> Any:
    return getattr(importlib.import_module("kubernetes.client.models"), model)


def _description(cls: Any) -> str:
    text = (cls.__doc__ or "").split("Attributes:", 1)[0]
    return " ".join(text.split())


def _ref(name: str) -> Obj:
    return {"$ref": f"#/components/schemas/{name}"}


class _Builder:
    """Component schemas reachable from some kinds, named for one group."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.schemas: dict[str, Obj] = {}

    def type_schema(self, type_name: str, field: str, annotation: Any) -> Obj:
        if type_name.startswith("List["):
            item = type_name[5:-1]
            found: Obj = {"type": "array", "items": self.type_schema(item, "", None)}
            keys = _LIST_KEYS_BY_ITEM.get(item)
            if keys:
                found["x-kubernetes-list-type"] = "map"
                found["x-kubernetes-list-map-keys"] = list(keys)
            return found
        if type_name.startswith("Dict["):
            value = type_name.split(", ", 1)[1][:-1]
            quantity = field in _QUANTITIES
            values = self.special(QUANTITY) if quantity else self.type_schema(value, "", None)
            return {"type": "object", "additionalProperties": values}
        if field in _QUANTITIES:
            return self.special(QUANTITY)
        if type_name == "datetime":
            return self.special(TIME)
        if type_name == "object":
            if annotation is not None and _int_or_string(annotation):
                return self.special(INT_OR_STRING)
            return {"type": "object"}
        if type_name == "bytes":
            return {"type": "string", "format": "byte"}
        scalar = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}
        if type_name in scalar:
            return {"type": scalar[type_name]}
        return _ref(self.model(type_name))

    def special(self, name: str) -> Obj:
        self.schemas.setdefault(name, dict(_SPECIAL[name]))
        return _ref(name)

    def model(self, model: str) -> str:
        name = schema_name(model, self.group)
        if name in self.schemas:
            return name
        cls = _model_class(model)
        schema: Obj = {"description": _description(cls), "type": "object"}
        self.schemas[name] = schema  # before the fields: models are recursive
        properties: Obj = {}
        required: list[str] = []
        for attribute, type_name in cls.openapi_types.items():
            json_name = cls.attribute_map[attribute]
            info = cls.model_fields.get(attribute)
            annotation = info.annotation if info is not None else None
            shape = self.type_schema(type_name, json_name, annotation)
            described = (info.description if info is not None else None) or ""
            if "$ref" in shape:  # as kube-apiserver: the field's own words beside its type
                shape = {"allOf": [shape]}
            if described:
                shape["description"] = described
            allowed = ENUMS.get((model, json_name))
            if allowed:
                shape["enum"] = list(allowed)
            properties[json_name] = shape
            if info is not None and info.is_required():
                required.append(json_name)
        schema["properties"] = properties
        if required:
            schema["required"] = sorted(required)
        return name


@functools.cache
def _kind_schemas(kinds: tuple[Kind, ...], group: str) -> dict[str, Obj]:
    builder = _Builder(group)
    for kind in kinds:
        name = builder.model(kind.model)
        gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        builder.schemas[name]["x-kubernetes-group-version-kind"] = [gvk]
    return builder.schemas


def builtin_schemas(kinds: list[Kind], group: str) -> dict[str, Obj]:
    """The component schemas of a group-version's built-in kinds and every type they use."""
    return _kind_schemas(tuple(k for k in kinds if not k.custom), group)


def object_meta_schemas() -> dict[str, Obj]:
    """ObjectMeta and the types it uses (a custom resource's `metadata` refers to it)."""
    builder = _Builder("")
    builder.model("V1ObjectMeta")
    return builder.schemas
