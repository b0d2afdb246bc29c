"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded to JSON.

kubectl's typed commands (`create secret|namespace|configmap|serviceaccount|role…`,
`auth can-i`) send protobuf, not JSON: the `k8s\\0` magic, then a runtime.Unknown whose `raw`
is the object's message. Field numbers below are those of k8s.io/api's generated.proto for the
kinds those commands send; other kinds answer 415.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from sandbox.k8s.errors import StatusError, bad_request

PROTOBUF = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
Obj = dict[str, Any]

# message -> field number -> (JSON name, type); types: string, bytes, bool, int, time, fieldsv1,
# msg:<Message>, list:<type>, map:string, map:bytes
_META = {
    1: ("name", "string"),
    2: ("generateName", "string"),
    3: ("namespace", "string"),
    4: ("selfLink", "string"),
    5: ("uid", "string"),
    6: ("resourceVersion", "string"),
    7: ("generation", "int"),
    8: ("creationTimestamp", "time"),
    9: ("deletionTimestamp", "time"),
    10: ("deletionGracePeriodSeconds", "int"),
    11: ("labels", "map:string"),
    12: ("annotations", "map:string"),
    13: ("ownerReferences", "list:msg:OwnerReference"),
    14: ("finalizers", "list:string"),
    17: ("managedFields", "list:msg:ManagedFieldsEntry"),
}
MESSAGES: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {1: ("typeMeta", "msg:TypeMeta"), 2: ("raw", "raw")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "ObjectMeta": _META,
    "OwnerReference": {
        1: ("kind", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("controller", "bool"),
        7: ("blockOwnerDeletion", "bool"),
    },
    "ManagedFieldsEntry": {
        1: ("manager", "string"),
        2: ("operation", "string"),
        3: ("apiVersion", "string"),
        4: ("time", "time"),
        6: ("fieldsType", "string"),
        7: ("fieldsV1", "fieldsv1"),
        8: ("subresource", "string"),
    },
    "Namespace": {1: ("metadata", "msg:ObjectMeta"), 2: ("spec", "msg:NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "list:string")},
    "Secret": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map:bytes"),
        3: ("type", "string"),
        4: ("stringData", "map:string"),
        5: ("immutable", "bool"),
    },
    "ConfigMap": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("data", "map:string"),
        3: ("binaryData", "map:bytes"),
        4: ("immutable", "bool"),
    },
    "ServiceAccount": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("secrets", "list:msg:ObjectReference"),
        3: ("imagePullSecrets", "list:msg:LocalObjectReference"),
        4: ("automountServiceAccountToken", "bool"),
    },
    "ObjectReference": {
        1: ("kind", "string"),
        2: ("namespace", "string"),
        3: ("name", "string"),
        4: ("uid", "string"),
        5: ("apiVersion", "string"),
        6: ("resourceVersion", "string"),
        7: ("fieldPath", "string"),
    },
    "LocalObjectReference": {1: ("name", "string")},
    "Role": {1: ("metadata", "msg:ObjectMeta"), 2: ("rules", "list:msg:PolicyRule")},
    "ClusterRole": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("rules", "list:msg:PolicyRule"),
        3: ("aggregationRule", "msg:AggregationRule"),
    },
    "PolicyRule": {
        1: ("verbs", "list:string"),
        2: ("apiGroups", "list:string"),
        3: ("resources", "list:string"),
        4: ("resourceNames", "list:string"),
        5: ("nonResourceURLs", "list:string"),
    },
    "AggregationRule": {1: ("clusterRoleSelectors", "list:msg:LabelSelector")},
    "LabelSelector": {
        1: ("matchLabels", "map:string"),
        2: ("matchExpressions", "list:msg:LabelSelectorRequirement"),
    },
    "LabelSelectorRequirement": {
        1: ("key", "string"),
        2: ("operator", "string"),
        3: ("values", "list:string"),
    },
    "RoleBinding": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("subjects", "list:msg:Subject"),
        3: ("roleRef", "msg:RoleRef"),
    },
    "Subject": {
        1: ("kind", "string"),
        2: ("apiGroup", "string"),
        3: ("name", "string"),
        4: ("namespace", "string"),
    },
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
    "SelfSubjectAccessReview": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:SelfSubjectAccessReviewSpec"),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "msg:ResourceAttributes"),
        2: ("nonResourceAttributes", "msg:NonResourceAttributes"),
    },
    "SubjectAccessReview": {
        1: ("metadata", "msg:ObjectMeta"),
        2: ("spec", "msg:SubjectAccessReviewSpec"),
    },
    "SubjectAccessReviewSpec": {
        1: ("resourceAttributes", "msg:ResourceAttributes"),
        2: ("nonResourceAttributes", "msg:NonResourceAttributes"),
        3: ("user", "string"),
        4: ("groups", "list:string"),
        6: ("uid", "string"),
    },
    "ResourceAttributes": {
        1: ("namespace", "string"),
        2: ("verb", "string"),
        3: ("group", "string"),
        4: ("version", "string"),
        5: ("resource", "string"),
        6: ("subresource", "string"),
        7: ("name", "string"),
    },
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "int"),
        2: ("preconditions", "msg:Preconditions"),
        3: ("orphanDependents", "bool"),
        4: ("propagationPolicy", "string"),
        5: ("dryRun", "list:string"),
    },
    "Preconditions": {1: ("uid", "string"), 2: ("resourceVersion", "string")},
}
_BY_KIND = {
    "LocalSubjectAccessReview": "SubjectAccessReview",
    "ClusterRoleBinding": "RoleBinding",
}


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


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs: ints for varints and fixed widths, bytes for the rest."""
    found: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            found.append((number, value))
        elif wire == 2:
            length, pos = _varint(data, pos)
            found.append((number, data[pos : pos + length]))
            pos += length
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            found.append((number, int.from_bytes(data[pos : pos + width], "little")))
            pos += width
        else:
            raise bad_request(f"protobuf: unsupported wire type {wire}")
    return found


def _scalar(kind: str, value: int | bytes) -> Any:
    if kind.startswith("msg:"):
        return decode_message(kind[4:], value if isinstance(value, bytes) else b"")
    if isinstance(value, int):
        if kind == "bool":
            return bool(value)
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bytes":
        return base64.b64encode(value).decode()
    if kind == "raw":
        return value
    if kind == "time":
        seconds = int(dict(_fields(value)).get(1, 0))
        return (
            datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if seconds else ""
        )
    if kind == "fieldsv1":
        raw = dict(_fields(value)).get(1, b"{}")
        return json.loads(raw if isinstance(raw, bytes) else b"{}")
    return value.decode()


def decode_message(name: str, data: bytes) -> Obj:
    """A message of the named type as JSON (unknown field numbers are skipped).

    Go marshals unset strings, numbers and timestamps as zero values; like the server's JSON
    encoding (`omitempty`), those are left out.
    """
    table = MESSAGES[name]
    obj: Obj = {}
    for number, value in _fields(data):
        if number not in table:
            continue
        field, kind = table[number]
        if kind.startswith("map:"):
            entry = dict(_fields(value if isinstance(value, bytes) else b""))
            key = entry.get(1, b"")
            item = _scalar(kind[4:], entry.get(2, b""))
            obj.setdefault(field, {})[key.decode() if isinstance(key, bytes) else str(key)] = item
        elif kind.startswith("list:"):
            obj.setdefault(field, []).append(_scalar(kind[5:], value))
        else:
            scalar = _scalar(kind, value)
            if scalar not in ("", 0) or kind == "bool":  # Go omits empty strings and zeros
                obj[field] = scalar
    return obj


def decode_body(body: bytes, kind: str) -> Obj:
    """A protobuf request body for an object of `kind` (or DeleteOptions) as JSON."""
    if not body.startswith(MAGIC):
        raise bad_request("protobuf: the body does not start with the k8s magic number")
    envelope = decode_message("Unknown", body[len(MAGIC) :])
    type_meta = envelope.get("typeMeta") or {}
    sent_kind = type_meta.get("kind") or kind
    message = _BY_KIND.get(sent_kind, sent_kind)
    if message not in MESSAGES:
        raise StatusError(
            415,
            "UnsupportedMediaType",
            f"the sandbox cannot decode {sent_kind} from protobuf; send application/json",
        )
    obj = decode_message(message, envelope.get("raw") or b"")
    if type_meta.get("apiVersion"):
        obj["apiVersion"] = type_meta["apiVersion"]
    if sent_kind != "DeleteOptions":
        obj["kind"] = sent_kind
    return obj
