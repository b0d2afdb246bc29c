"""Unknown fields: dropped from what is stored, reported as `fieldValidation` asks.

`Strict` rejects the request (400), `Warn` (the default) answers a warning per field, `Ignore`
drops them silently: what kube-apiserver does with its `fieldValidation` query parameter. A
server-side apply is refused whatever the parameter says: its configuration must convert to a
typed object of the schema (kubernetes#105916: "Apply Patch requests already require strict
schemas and will error on unknown fields").
"""

from __future__ import annotations

from typing import Any

from sandbox.k8s.errors import bad_request
from sandbox.k8s.kinds import Kind
from sandbox.k8s.schemas import Schema

DIRECTIVES = ("Strict", "Warn", "Ignore")


def prune_unknown(value: Any, schema: Schema, path: str = "") -> list[str]:
    """Remove fields the schema does not declare, in place; return their paths (`spec.foo`)."""
    found: list[str] = []
    if isinstance(value, dict) and not (schema.open and schema.fields is None):
        for name in list(value):
            sub = schema.field(name)
            where = f"{path}.{name}" if path else name
            if sub is None:
                found.append(where)
                del value[name]
            else:
                found.extend(prune_unknown(value[name], sub, where))
    elif isinstance(value, list) and schema.items is not None:
        for index, item in enumerate(value):
            found.extend(prune_unknown(item, schema.items, f"{path}[{index}]"))
    return found


def validate_fields(
    obj: dict[str, Any], schema: Schema, kind: Kind, directive: str, applying: bool = False
) -> list[str]:
    """Prune unknown fields of obj; return warnings, or raise 400 under `Strict`."""
    if directive not in DIRECTIVES:
        raise bad_request(
            f'fieldValidation must be one of "Ignore", "Warn" or "Strict", got "{directive}"'
        )
    unknown = prune_unknown(obj, schema)
    if not unknown or (directive == "Ignore" and not applying):
        return []
    if directive == "Strict" or applying:  # an apply patch is typed strictly, whatever asked
        if applying:
            paths = ", ".join(f".{path}: field not declared in schema" for path in unknown)
            raise bad_request(
                f"failed to create typed patch object ({kind.api_version}, Kind={kind.kind}): "
                + paths
            )
        listed = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: '
            f"strict decoding error: {listed}"
        )
    return [f'unknown field "{path}"' for path in unknown]
