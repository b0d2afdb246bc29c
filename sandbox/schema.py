"""Request checking against discovery schemas, the way Google's front end parses JSON.

Unknown fields are refused (`Invalid JSON payload received. Unknown name "foo" at 'cluster':
Cannot find field.`), enums are accepted as names or numbers and stored as names, int64 as
strings or numbers and stored as strings, snake_case keys as their camelCase names, `null` as
absent, and output-only fields are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from sandbox.discovery import Discovery, Method
from sandbox.enumnumbers import EnumNumbers
from sandbox.errors import ApiError, invalid_argument

# System parameters every Google API accepts besides the method's own.
STANDARD_QUERY = frozenset(
    {
        "$.xgafv",
        "alt",
        "$alt",
        "key",
        "fields",
        "$fields",
        "prettyPrint",
        "quotaUser",
        "access_token",
        "oauth_token",
        "callback",
        "uploadType",
        "upload_protocol",
        "userIp",
        "$trace",
        "trace",
        "requestReason",
    }
)
_OUTPUT_ONLY = re.compile(r"^\W*output[ -]only", re.IGNORECASE)
_INTEGER = re.compile(r"^-?\d+$")


def snake(name: str) -> str:
    """`nodePools` → `node_pools` (proto field names appear in Google's error paths)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    """`node_pools` → `nodePools`."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def is_output_only(prop: dict[str, Any]) -> bool:
    """Output-only per discovery: `readOnly`, or a description starting "Output only"."""
    return bool(prop.get("readOnly")) or bool(_OUTPUT_ONLY.match(prop.get("description", "")))


class SchemaChecker:
    """Checks and normalizes request bodies and query parameters of one discovery document."""

    def __init__(
        self,
        discovery: Discovery,
        enums: EnumNumbers | None = None,
        extra_query: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.discovery = discovery
        self.enums = enums
        self.extra_query = dict(extra_query or {})

    def body(self, method: Method, raw: Any, body_field: str | None = None) -> dict[str, Any]:
        """The request body, checked and normalized; `{}` for methods without one."""
        if method.request_ref is None:
            return {}
        if raw is None:
            raw = {}
        if body_field is None:
            body_field = self._body_field(method.request_ref)
        value = self._value({"$ref": method.request_ref}, raw, body_field, None, "")
        return value if isinstance(value, dict) else {}

    def _body_field(self, ref: str) -> str:
        # The HTTP rule binds the body either to the whole request (`body: "*"`), or to one field
        # named after the resource (`project`, `network_resource` in Compute).
        if self.discovery.api == "compute":
            return snake(ref) + "_resource"
        if ref.endswith("Request"):
            return ""
        return snake(ref)

    def _value(
        self, schema: dict[str, Any], value: Any, path: str, owner: str | None, prop: str
    ) -> Any:
        if "$ref" in schema:
            ref = schema["$ref"]
            return self._object(self.discovery.schemas[ref], value, path, ref)
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, value, path, None)
        if kind == "array":
            if not isinstance(value, list):
                raise _invalid(path, "TYPE_MESSAGE", value)
            items = schema.get("items", {})
            return [
                self._value(items, item, f"{path}[{index}]", owner, prop)
                for index, item in enumerate(value)
                if item is not None
            ]
        if "enum" in schema:
            return self._enum(schema, value, path, owner, prop)
        return _scalar(kind, schema.get("format"), value, path)

    def _object(
        self, schema: dict[str, Any], value: Any, path: str, name: str | None
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _invalid(path, "TYPE_MESSAGE", value)
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if not props and extra is not None:
            if extra.get("type") == "any":
                return dict(value)
            return {
                key: self._value(extra, item, f"{path}[{key}]", None, "")
                for key, item in value.items()
                if item is not None
            }
        if not props and schema.get("type") == "any":
            return dict(value)
        result: dict[str, Any] = {}
        for key, item in value.items():
            field = key if key in props else camel(key)
            spec = props.get(field)
            if spec is None:
                at = f" at '{path}'" if path else ""
                message = (
                    f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
                )
                raise invalid_argument(message, field_path=path)
            if item is None or is_output_only(spec):
                continue
            child = f"{path}.{snake(field)}" if path else snake(field)
            result[field] = self._value(spec, item, child, name, field)
        return result

    def _enum(
        self, schema: dict[str, Any], value: Any, path: str, owner: str | None, prop: str
    ) -> str:
        names: list[str] = schema["enum"]
        if isinstance(value, str) and value in names:
            return value
        numbers = self.enums.numbers(owner, prop) if self.enums and owner else None
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and _INTEGER.match(value):
            number = int(value)
        if number is not None:
            if numbers is not None and number in numbers:
                return numbers[number]
            if numbers is None and 0 <= number < len(names):
                return names[number]
        type_name = self.enums.enum_type(owner, prop) if self.enums and owner else None
        raise _invalid(
            path, f"type.googleapis.com/{type_name}" if type_name else "TYPE_ENUM", value
        )

    def query(self, method: Method, raw: dict[str, list[str]]) -> dict[str, Any]:
        """Query parameters by name, typed; unknown names refused like Google does."""
        result: dict[str, Any] = {}
        for name, values in raw.items():
            if name in STANDARD_QUERY:
                continue
            spec = (
                method.query_parameter(name)
                or method.query_parameter(camel(name))
                or self.extra_query.get(name)
            )
            if spec is None:
                message = (
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message."
                )
                raise invalid_argument(message)
            key = camel(name) if method.query_parameter(camel(name)) else name
            typed = [self._query_value(spec, value, snake(key)) for value in values]
            result[key] = typed if spec.get("repeated") else typed[-1]
        return result

    def _query_value(self, spec: dict[str, Any], value: str, path: str) -> Any:
        if "enum" in spec:
            names: list[str] = spec["enum"]
            if value in names:
                return value
            if _INTEGER.match(value) and 0 <= int(value) < len(names):
                return names[int(value)]
            raise _invalid(path, "TYPE_ENUM", value)
        kind = spec.get("type")
        if kind == "boolean":
            if value.lower() not in ("true", "false", "1", "0"):
                raise _invalid(path, "TYPE_BOOL", value)
            return value.lower() in ("true", "1")
        if kind == "integer":
            if not _INTEGER.match(value):
                raise _invalid(path, "TYPE_INT32", value)
            return int(value)
        return value


def _scalar(kind: str | None, fmt: str | None, value: Any, path: str) -> Any:
    if kind == "string" and fmt in ("int64", "uint64"):
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and _INTEGER.match(value))
        ):
            raise _invalid(path, f"TYPE_{fmt.upper()}", value)
        return str(int(value))
    if kind == "string":
        if not isinstance(value, str):
            raise _invalid(path, "TYPE_STRING", value)
        return value
    if kind == "integer":
        if isinstance(value, str) and _INTEGER.match(value):
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise _invalid(path, f"TYPE_{(fmt or 'int32').upper()}", value)
        return int(value)
    if kind == "number":
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise _invalid(path, f"TYPE_{(fmt or 'double').upper()}", value) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, f"TYPE_{(fmt or 'double').upper()}", value)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(path, "TYPE_BOOL", value)
        return value
    return value


def _invalid(path: str, type_name: str, value: Any) -> ApiError:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    message = f"Invalid value at '{path}' ({type_name}), {shown}"
    return invalid_argument(message, field_path=path)
