"""Object shapes: which fields exist and how lists merge, for built-ins and custom resources.

Built-in kinds take their shapes from the official Python client's models (`openapi_types` and
`attribute_map` are the Kubernetes OpenAPI definitions); list merge keys follow the Go types'
`listType=map` markers for the lists mlplat's objects use. Custom resources take theirs from the
CRD's `openAPIV3Schema`.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(eq=False)
class Schema:
    """What is known of a value: an object's fields, a map's values, a list's items."""

    fields: dict[str, Schema] | None = None  # an object with declared fields
    values: Schema | None = None  # a map whose values share one shape
    items: Schema | None = None  # a list
    list_keys: tuple[str, ...] = ()  # an associative list, merged by these keys
    list_set: bool = False  # a list of unique scalars, merged as a set
    open: bool = False  # fields not declared are kept (preserve-unknown-fields, untyped)
    embedded: bool = False  # an embedded object: apiVersion, kind and metadata allowed
    # What a CRD's schema checks of values (built-in kinds leave these empty):
    type: str = ""  # OpenAPI type; "" when untyped
    required: tuple[str, ...] = ()
    enum: tuple[Any, ...] = ()
    int_or_string: bool = False
    nullable: bool = False
    defaults: dict[str, Any] | None = None  # field name -> default, applied when absent

    def field(self, name: str) -> Schema | None:
        """The shape of one field or map value; None when the field is unknown."""
        if self.fields is not None and name in self.fields:
            return self.fields[name]
        if self.values is not None:
            return self.values
        if self.embedded and name in ("apiVersion", "kind", "metadata"):
            return model_schema("V1ObjectMeta") if name == "metadata" else SCALAR
        if self.open or self.fields is None:
            return ANY
        return None


ANY = Schema(open=True)
SCALAR = Schema()

# Item model -> list-map keys (`+listType=map` / `patchMergeKey` in the Go types).
_LIST_KEYS_BY_ITEM = {
    "V1Container": ("name",),
    "V1EphemeralContainer": ("name",),
    "V1EnvVar": ("name",),
    "V1Volume": ("name",),
    "V1VolumeMount": ("mountPath",),
    "V1VolumeDevice": ("devicePath",),
    "V1ContainerPort": ("containerPort", "protocol"),
    "V1ServicePort": ("port", "protocol"),
    "V1OwnerReference": ("uid",),
    "V1HostAlias": ("ip",),
    "V1TopologySpreadConstraint": ("topologyKey", "whenUnsatisfiable"),
    "V1PodResourceClaim": ("name",),
    "V1PodSchedulingGate": ("name",),
}
_LIST_KEYS_BY_FIELD = {"imagePullSecrets": ("name",)}
_SET_FIELDS = frozenset({"finalizers"})
# Defaults of list-map key fields when an item leaves them out.
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}


_MODELS: dict[str, Schema] = {}
_MODELS_LOCK = threading.RLock()


def model_schema(model: str) -> Schema:
    """The shape of a kubernetes client model (`V1Deployment`, `V1ObjectMeta`, …)."""
    with _MODELS_LOCK:
        found = _MODELS.get(model)
        if found is not None:
            return found
        schema = Schema(fields={})
        _MODELS[model] = schema  # before its fields: models are recursive (JSONSchemaProps)
        cls = getattr(importlib.import_module("kubernetes.client.models"), model)
        fields: dict[str, Schema] = {}
        for attribute, type_name in cls.openapi_types.items():
            json_name = cls.attribute_map[attribute]
            fields[json_name] = _from_type(type_name, json_name)
        schema.fields = fields
        return schema


def _from_type(type_name: str, field_name: str) -> Schema:
    if type_name.startswith("List["):
        item = type_name[5:-1]
        keys = _LIST_KEYS_BY_FIELD.get(field_name) or _LIST_KEYS_BY_ITEM.get(item, ())
        if not keys and item.endswith("Condition"):
            keys = ("type",)
        return Schema(
            items=_from_type(item, ""), list_keys=keys, list_set=field_name in _SET_FIELDS
        )
    if type_name.startswith("Dict["):
        return Schema(values=_from_type(type_name.split(", ", 1)[1][:-1], ""))
    if type_name == "object":
        return ANY
    if type_name[:1].isupper():
        return model_schema(type_name)
    return SCALAR


def json_schema(props: Obj | None) -> Schema:
    """The shape an OpenAPI v3 schema (a CRD version's `openAPIV3Schema`) declares."""
    if not isinstance(props, dict):
        return ANY
    shape = _shape(props)
    shape.type = str(props.get("type") or "")
    shape.required = tuple(props.get("required") or ())
    shape.enum = tuple(props.get("enum") or ())
    shape.int_or_string = bool(props.get("x-kubernetes-int-or-string"))
    shape.nullable = bool(props.get("nullable"))
    properties = props.get("properties")
    if isinstance(properties, dict):
        found = {
            k: v["default"] for k, v in properties.items() if isinstance(v, dict) and "default" in v
        }
        shape.defaults = found or None
    return shape


def _shape(props: Obj) -> Schema:
    preserve = bool(props.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(props.get("x-kubernetes-embedded-resource"))
    kind = props.get("type")
    if kind == "array" or "items" in props:
        list_type = props.get("x-kubernetes-list-type")
        keys = tuple(props.get("x-kubernetes-list-map-keys") or ()) if list_type == "map" else ()
        items = json_schema(props.get("items"))
        return Schema(items=items, list_keys=keys, list_set=list_type == "set")
    properties = props.get("properties")
    additional = props.get("additionalProperties")
    if isinstance(properties, dict):
        fields = {name: json_schema(sub) for name, sub in properties.items()}
        return Schema(fields=fields, open=preserve, embedded=embedded)
    if isinstance(additional, dict):
        return Schema(values=json_schema(additional), embedded=embedded)
    if preserve or additional is True or kind is None:
        return Schema(open=True, embedded=embedded)
    if kind == "object":
        return Schema(fields={}, embedded=embedded)  # declares no field: all are pruned
    return Schema()


def custom_resource_schema(props: Obj | None) -> Schema:
    """A custom resource's root: the CRD schema plus apiVersion, kind and ObjectMeta."""
    root = json_schema(props)
    fields = dict(root.fields or {})
    fields.update(apiVersion=SCALAR, kind=SCALAR, metadata=model_schema("V1ObjectMeta"))
    shape = Schema(fields=fields, open=root.open)
    shape.required, shape.defaults = root.required, root.defaults
    return shape


def item_key(item: Any, keys: tuple[str, ...]) -> str:
    """An associative list item's identity as managedFields writes it: `{"name":"app"}`."""
    if not isinstance(item, dict):
        return json.dumps(item, separators=(",", ":"))
    values = {key: item.get(key, KEY_DEFAULTS.get(key)) for key in keys}
    return json.dumps(values, separators=(",", ":"))
