"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded to JSON.

kubectl's typed commands (`create deployment|service|job|secret|namespace|role…`, `auth can-i`,
`auth whoami`) send protobuf, not JSON: the `k8s\\0` magic, then a runtime.Unknown whose `raw`
is the object's message. The messages' field numbers and JSON names are in `protobuf_fields`;
a kind without an entry there answers 415.
"""

from __future__ import annotations

import base64
import functools
import json
import struct
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sandbox.k8s.errors import StatusError, bad_request
from sandbox.k8s.protobuf_fields import FIELDS

PROTOBUF = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
Obj = dict[str, Any]
Value = int | bytes

# apiVersion -> the package its messages are keyed under in FIELDS
PACKAGES = {
    "v1": "core",
    "apps/v1": "apps",
    "batch/v1": "batch",
    "rbac.authorization.k8s.io/v1": "rbac",
    "authorization.k8s.io/v1": "authorization",
    "authentication.k8s.io/v1": "authentication",
    "autoscaling/v1": "autoscaling",
    "networking.k8s.io/v1": "networking",
    "policy/v1": "policy",
}
_SCALARS = frozenset("sibyd")


class Field(NamedTuple):
    """One field of a message: its JSON name, type code, and flags."""

    name: str
    code: str
    keep_zero: bool  # a pointer, or a field without `omitempty`: zero values are shown
    inline: bool  # `json:",inline"`: the message's fields are its parent's


@functools.cache
def _messages() -> dict[str, dict[int, Field]]:
    messages: dict[str, dict[int, Field]] = {}
    key = ""
    for line in FIELDS.strip().splitlines():
        tokens = line.split()
        if not line.startswith(" "):
            key, tokens = tokens[0], tokens[1:]
            messages[key] = {}
        for token in tokens:
            number, name, code = token.split(":", 2)
            messages[key][int(number)] = Field(
                name, code.rstrip("!^"), code.endswith("!"), code.endswith("^")
            )
    return messages


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise bad_request("protobuf: truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes) -> list[tuple[int, int, Value]]:
    """(field number, wire type, value): ints for varints and fixed widths, bytes otherwise."""
    found: list[tuple[int, int, Value]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            found.append((number, wire, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise bad_request("protobuf: truncated length-delimited field")
            found.append((number, wire, data[pos : pos + length]))
            pos += length
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            found.append((number, wire, int.from_bytes(data[pos : pos + width], "little")))
            pos += width
        else:
            raise bad_request(f"protobuf: unsupported wire type {wire}")
    return found


def _first(data: bytes) -> dict[int, Value]:
    return {number: value for number, _, value in _fields(data)}


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _time(data: bytes, micro: bool) -> str | None:
    fields = _first(data)
    seconds, nanos = fields.get(1, 0), fields.get(2, 0)
    if not isinstance(seconds, int) or not isinstance(nanos, int) or not (seconds or nanos):
        return None  # metav1.Time's zero value is JSON null
    moment = datetime.fromtimestamp(_signed(seconds), UTC)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(data: bytes) -> str:
    """metav1.Duration as Go prints a time.Duration (`1h0m0s`, `1.5s`, `0s`)."""
    nanos = _first(data).get(1, 0)
    nanos = _signed(nanos) if isinstance(nanos, int) else 0
    sign, nanos = ("-" if nanos < 0 else ""), abs(nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 10**6), ("µs", 10**3)):
            if nanos >= size:
                return f"{sign}{nanos / size:g}{unit}"
        return f"{sign}{nanos}ns" if nanos else "0s"
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    seconds = f"{rest / 10**9:.9f}".rstrip("0").rstrip(".")
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}s"
    return f"{sign}{minutes}m{seconds}s" if minutes else f"{sign}{seconds}s"


def _raw_json(data: bytes) -> Any:
    raw = _first(data).get(1, b"")
    if not isinstance(raw, bytes) or not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise bad_request("protobuf: an embedded object is not JSON") from None


def _int_or_string(data: bytes) -> int | str:
    fields = _first(data)
    if fields.get(1, 0) == 1:
        text = fields.get(3, b"")
        return text.decode() if isinstance(text, bytes) else ""
    number = fields.get(2, 0)
    return _signed(number) if isinstance(number, int) else 0


def _scalar(code: str, wire: int, value: Value) -> Any:
    if isinstance(value, int):
        if code == "b":
            return bool(value)
        if code == "d":
            return struct.unpack("<d", value.to_bytes(8, "little"))[0] if wire == 1 else value
        return _signed(value)
    if code == "y":
        return base64.b64encode(value).decode()
    return value.decode()


def _value(code: str, wire: int, value: Value) -> Any:
    """One (non-repeated) value of a type code."""
    if code in _SCALARS:
        return _scalar(code, wire, value)
    data = value if isinstance(value, bytes) else b""
    if code.startswith("@"):
        return decode_message(code[1:], data)
    if code.startswith("["):  # a list type as a message (ExtraValue): its items are field 1
        return [_value(code[1:], w, v) for n, w, v in _fields(data) if n == 1]
    if code in ("t", "T"):
        return _time(data, micro=code == "T")
    if code == "D":
        return _duration(data)
    if code in ("f", "r"):
        found = _raw_json(data)
        return {} if found is None and code == "f" else found
    if code == "n":
        return _int_or_string(data)
    text = _first(data).get(1, b"")  # a Quantity: its string form
    return text.decode() if isinstance(text, bytes) else ""


def _unpacked(code: str, wire: int, value: Value) -> list[tuple[int, Value]]:
    """A repeated scalar's values: one, or several when packed into one field."""
    if wire != 2 or code not in ("i", "b", "d") or not isinstance(value, bytes):
        return [(wire, value)]
    found: list[tuple[int, Value]] = []
    pos = 0
    while pos < len(value):
        if code == "d":
            found.append((1, int.from_bytes(value[pos : pos + 8], "little")))
            pos += 8
        else:
            number, pos = _varint(value, pos)
            found.append((0, number))
    return found


def _is_zero(value: Any) -> bool:
    return value is None or (value in ("", 0, False) and not isinstance(value, dict | list))


def decode_message(key: str, data: bytes) -> Obj:
    """A message (`core.Container`, `meta.ObjectMeta`, …) as the JSON the server stores.

    Go marshals non-pointer scalars even when empty; the JSON encoding leaves out those tagged
    `omitempty`, and so does this. Unknown field numbers are skipped, as Go's decoder does.
    """
    table = _messages()[key]
    obj: Obj = {}
    for number, wire, value in _fields(data):
        field = table.get(number)
        if field is None:
            continue
        code = field.code
        if code.startswith("{"):
            entry = {n: (w, v) for n, w, v in _fields(value if isinstance(value, bytes) else b"")}
            name = entry.get(1, (2, b""))[1]
            item_wire, item = entry.get(2, (2, b""))
            shown = name.decode() if isinstance(name, bytes) else str(name)
            obj.setdefault(field.name, {})[shown] = _value(code[1:], item_wire, item)
        elif code.startswith("["):
            items = obj.setdefault(field.name, [])
            items += [_value(code[1:], w, v) for w, v in _unpacked(code[1:], wire, value)]
        elif field.inline:
            obj.update(_value(code, wire, value))
        else:
            decoded = _value(code, wire, value)
            if code in _SCALARS and not field.keep_zero and _is_zero(decoded):
                continue
            if decoded is not None:
                obj[field.name] = decoded
    return obj


def _message_key(api_version: str, kind: str) -> str | None:
    if kind == "DeleteOptions":
        return "meta.DeleteOptions"
    package = PACKAGES.get(api_version)
    key = f"{package}.{kind}"
    return key if package and key in _messages() else None


def decode_body(body: bytes, kind: str, api_version: str = "") -> Obj:
    """A protobuf request body for an object of `kind` (or DeleteOptions) as JSON."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf: the body does not start with the k8s magic number")
    envelope = _first(body[len(MAGIC) :])
    type_meta = envelope.get(1, b"")
    sent = _first(type_meta) if isinstance(type_meta, bytes) else {}
    sent_version = sent.get(1, b"")
    sent_kind = sent.get(2, b"")
    version = sent_version.decode() if isinstance(sent_version, bytes) else ""
    named = sent_kind.decode() if isinstance(sent_kind, bytes) else ""
    named, version = named or kind, version or api_version
    key = _message_key(version, named)
    if key is None:
        raise StatusError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: "
            f"application/json, application/yaml (the sandbox decodes no {named} protobuf)",
        )
    raw = envelope.get(2, b"")
    obj = decode_message(key, raw if isinstance(raw, bytes) else b"")
    if version:
        obj["apiVersion"] = version
    if named != "DeleteOptions":
        obj["kind"] = named
    return obj
