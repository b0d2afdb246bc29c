"""Server-side printing: `Table` answers for `kubectl get` (Accept: …;as=Table;…)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sandbox.k8s.kinds import Kind

Obj = dict[str, Any]
Column = tuple[str, str, str]  # (name, type, description)


def wants_table(accept: str) -> bool:
    """True when the client asked for a meta.k8s.io Table."""
    return "as=Table" in accept


def _age(created: str, now: float) -> str:
    try:
        then = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return "<unknown>"
    seconds = max(0, int(now - then))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _path(obj: Any, json_path: str) -> str:
    value = obj
    for part in json_path.strip("{}").lstrip(".").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _extra(kind: Kind, obj: Obj) -> list[tuple[Column, Any]]:
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    if kind.custom:
        return [
            ((c["name"], "string", ""), _path(obj, c["jsonPath"])) for c in kind.printer_columns
        ]
    if kind.kind in ("Namespace", "Pod"):
        return [(("Status", "string", "The phase."), status.get("phase", ""))]
    if kind.kind == "Deployment":
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        return [
            (("Ready", "string", "Ready replicas."), ready),
            (("Up-to-date", "integer", "Updated replicas."), status.get("updatedReplicas", 0)),
            (("Available", "integer", "Available replicas."), status.get("availableReplicas", 0)),
        ]
    if kind.kind == "Secret":
        return [
            (("Type", "string", "The secret type."), obj.get("type", "")),
            (("Data", "string", "Number of keys."), len(obj.get("data") or {})),
        ]
    if kind.kind == "ConfigMap":
        data = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
        return [(("Data", "string", "Number of keys."), data)]
    if kind.kind == "Service":
        return [
            (("Type", "string", "The service type."), spec.get("type", "")),
            (("Cluster-IP", "string", "The cluster IP."), spec.get("clusterIP", "")),
        ]
    if kind.kind == "CustomResourceDefinition":
        return [
            (
                ("Created At", "date", "When it was created."),
                obj["metadata"].get("creationTimestamp", ""),
            )
        ]
    return []


def table(kind: Kind, items: list[Obj], resource_version: str, now: float, full: bool) -> Obj:
    """A Table of objects; each row carries the object (full) or its metadata."""
    sample = _extra(kind, items[0]) if items else _extra(kind, {"metadata": {}})
    columns: list[Column] = [("Name", "string", "Name must be unique within a namespace.")]
    columns += [column for column, _ in sample]
    with_age = kind.kind != "CustomResourceDefinition"
    if with_age:
        columns.append(("Age", "date", "CreationTimestamp is a timestamp of when it was created."))
    rows = []
    for obj in items:
        metadata = obj.get("metadata") or {}
        cells = [metadata.get("name", ""), *[value for _, value in _extra(kind, obj)]]
        if with_age:
            cells.append(_age(metadata.get("creationTimestamp", ""), now))
        shown = (
            obj
            if full
            else {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
            }
        )
        rows.append({"cells": cells, "object": shown})
    definitions = [
        {
            "name": name,
            "type": kind_name,
            "format": "name" if name == "Name" else "",
            "description": description,
            "priority": 0,
        }
        for name, kind_name, description in columns
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
