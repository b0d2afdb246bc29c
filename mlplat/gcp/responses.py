"""Google API answers checked against the API's discovery document before mlplat reads them.

The official clients are lenient readers. google-cloud's REST transports parse answers with
`ignore_unknown_fields=True`: an enum value they do not know is dropped (the field reads as
unspecified) and a string sent for an object reads as an empty message. googleapiclient hands
back whatever JSON arrived, or the raw text when it is not JSON. Read that way, a corrupted
answer looks like a cluster without a status or a network without its settings, and mlplat
would plan changes on it, or wait on a state that never comes. So each successful answer is
checked first, against the discovery document of its method (the documents the clients are
generated from, shipped with google-api-python-client):
- the body must be JSON (a cut-short one is retried when the call was a read);
- every field the document declares must hold its JSON type (an object, a list, a string…);
- a state mlplat decides on (a `status`, `state` or `code` enum) must hold a value the document
  lists: what to do in an unknown state cannot be decided.
Fields the document does not declare are accepted (Google adds fields), and so are new values of
enums mlplat does not decide on (Google adds those too). Enums may come as numbers: the REST
transports ask for `enum-encoding=int`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import googleapiclient

from mlplat.errors import TRUNCATED, UNKNOWN_ENUM, WRONG_TYPE, described, malformed

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
DECISIONS = frozenset({"status", "state", "code"})
_READ_ONLY_VERBS = frozenset({"wait", "getIamPolicy", "testIamPermissions"})
_VARIABLE = re.compile(r"\{(\+?)([^}]+)\}")
_MAX_DEPTH = 64
_SHOWN = 3  # problems named in a message


@dataclass(frozen=True)
class Method:
    """A discovery method: how its requests look and what it answers."""

    id: str
    http_method: str
    pattern: re.Pattern[str]
    response: str | None  # the schema name of its answer
    literal: int  # characters of the URL template that are not variables

    @property
    def read(self) -> bool:
        """Whether calling it changes nothing (GETs and a few read-only POSTs)."""
        return self.http_method == "GET" or self.id.rsplit(".", 1)[-1] in _READ_ONLY_VERBS


@dataclass(frozen=True)
class Document:
    """One API version's discovery document: its schemas and methods."""

    name: str
    schemas: dict[str, Any]
    methods: tuple[Method, ...]  # most specific template first

    def method(self, http_method: str, path: str) -> Method | None:
        """The method a request (verb, URL path) called, if the document has it."""
        for method in self.methods:
            if method.http_method == http_method and method.pattern.fullmatch(path):
                return method
        return None

    def method_by_id(self, method_id: str) -> Method | None:
        return next((m for m in self.methods if m.id == method_id), None)


@functools.cache
def document(name: str) -> Document:
    """The discovery document by file stem (`compute.v1`, `container.v1`…)."""
    raw = json.loads((DOCUMENTS / f"{name}.json").read_text())
    prefix = "/" + raw.get("servicePath", "")
    methods = [_method(prefix, spec) for spec in _walk(raw)]
    methods.sort(key=lambda m: (-m.literal, m.id))
    return Document(name=name, schemas=raw.get("schemas", {}), methods=tuple(methods))


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(node.get("methods", {}).values())
    for child in node.get("resources", {}).values():
        found.extend(_walk(child))
    return found


def _method(prefix: str, spec: dict[str, Any]) -> Method:
    template = prefix + spec.get("flatPath", spec["path"])
    parts, literal, position = [], 0, 0
    for match in _VARIABLE.finditer(template):
        text = template[position : match.start()]
        parts.append(re.escape(text))
        literal += len(text)
        parts.append(".+" if match.group(1) else "[^/]+")
        position = match.end()
    parts.append(re.escape(template[position:]))
    literal += len(template) - position
    return Method(
        id=spec["id"],
        http_method=spec["httpMethod"],
        pattern=re.compile("".join(parts)),
        response=spec.get("response", {}).get("$ref"),
        literal=literal,
    )


def problems(doc: Document, schema_name: str, payload: Any) -> list[tuple[str, str]]:
    """(problem, detail) for each value of `payload` that does not fit schema `schema_name`:
    WRONG_TYPE anywhere, UNKNOWN_ENUM for the states mlplat decides on."""
    found: list[tuple[str, str]] = []
    _check(doc, {"$ref": schema_name}, payload, path="", found=found, depth=0)
    return found


def _check(
    doc: Document, schema: dict[str, Any], value: Any, *, path: str, found: list[Any], depth: int
) -> None:
    if value is None or depth > _MAX_DEPTH:
        return
    while "$ref" in schema:
        schema = doc.schemas.get(schema["$ref"], {})
    kind = schema.get("type")
    where = path or "the answer"
    if kind == "object":
        if not isinstance(value, dict):
            found.append((WRONG_TYPE, f"{where}: expected an object, got {described(value)}"))
            return
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra)
            if isinstance(sub, dict):
                where_next = f"{path}.{key}" if path else key
                _check(doc, sub, item, path=where_next, found=found, depth=depth + 1)
    elif kind == "array":
        if not isinstance(value, list):
            found.append((WRONG_TYPE, f"{where}: expected a list, got {described(value)}"))
            return
        for index, item in enumerate(value):
            item_schema = schema.get("items", {})
            _check(doc, item_schema, item, path=f"{path}[{index}]", found=found, depth=depth + 1)
    elif kind in _SCALARS and not _SCALARS[kind](schema, value):
        expected = "an enum value" if "enum" in schema else _ARTICLES[kind]
        found.append((WRONG_TYPE, f"{where}: expected {expected}, got {described(value)}"))
    elif _unknown_state(schema, value, path):
        known = ", ".join(v for v in schema["enum"] if not v.endswith("_UNSPECIFIED"))
        found.append((UNKNOWN_ENUM, f"{where}: {value!r} is none of {known}"))


def _unknown_state(schema: dict[str, Any], value: Any, path: str) -> bool:
    """A state mlplat decides on, with a value its enum does not list."""
    if "enum" not in schema or not isinstance(value, str) or value in schema["enum"]:
        return False
    return path.rsplit(".", 1)[-1] in DECISIONS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _string(schema: dict[str, Any], value: Any) -> bool:
    if isinstance(value, str):
        return True
    # int64 may come as a number; an enum as its number (enum-encoding=int)
    return _is_int(value) and (schema.get("format") in ("int64", "uint64") or "enum" in schema)


def _integer(_schema: dict[str, Any], value: Any) -> bool:
    return _is_int(value) or (isinstance(value, str) and value.lstrip("-").isdigit())


def _number(_schema: dict[str, Any], value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or value in ("NaN", "Infinity", "-Infinity")


def _boolean(_schema: dict[str, Any], value: Any) -> bool:
    return isinstance(value, bool)


_ARTICLES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
}
_SCALARS: dict[str, Callable[[dict[str, Any], Any], bool]] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
}


def check_body(doc: Document, method: Method | None, request_line: str, content: bytes) -> Any:
    """The answer's JSON when it fits the method's schema; else raises our error (see
    `mlplat.errors.malformed`). `request_line` names the call when no method matched."""
    name = method.id if method is not None else request_line
    read = method.read if method is not None else request_line.startswith("GET ")
    try:
        payload = json.loads(content) if content.strip() else None
    except ValueError as exc:
        raise malformed(name, TRUNCATED, str(exc), idempotent=read) from None
    check_payload(doc, method, name, payload)
    return payload


def check_payload(doc: Document, method: Method | None, name: str, payload: Any) -> None:
    """Raise our error when a parsed answer does not fit the method's response schema."""
    if method is None or method.response is None or payload is None:
        return
    found = problems(doc, method.response, payload)
    if found:
        problem = WRONG_TYPE if any(p == WRONG_TYPE for p, _ in found) else UNKNOWN_ENUM
        matching = [detail for p, detail in found if p == problem]
        details = "; ".join(matching[:_SHOWN])
        if len(matching) > _SHOWN:
            details += f" (+{len(matching) - _SHOWN} more)"
        raise malformed(name, problem, details, idempotent=method.read)


def response_hook(name: str) -> Callable[..., None]:
    """A `requests` response hook checking each successful answer against document `name`."""
    doc = document(name)

    def hook(response: Any, *_args: Any, **_kwargs: Any) -> None:
        if not 200 <= int(response.status_code) < 300:
            return  # errors are the client's to read (and it reads bad ones leniently)
        request = response.request
        path = urlsplit(str(request.url)).path
        method = doc.method(str(request.method), path)
        check_body(doc, method, f"{request.method} {path}", response.content)

    return hook
