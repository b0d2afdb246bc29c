"""The google.longrunning.Operation shape (Resource Manager, Service Usage, GKE Hub…).

Store `responseType` and `metadata` (with its `@type`) in the operation's `info` when starting it;
the response is what the effect returned, wrapped in an Any.
"""

from __future__ import annotations

from typing import Any

from sandbox.errors import not_found
from sandbox.operations import Record


def render(record: Record, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """An operation record as google.longrunning.Operation JSON."""
    info = record["info"]
    body: dict[str, Any] = {"name": record["name"]}
    meta = dict(info.get("metadata") or {})
    meta.update(metadata or {})
    if meta:
        body["metadata"] = meta
    if record["done"]:
        body["done"] = True
        if record["error"] is not None:
            body["error"] = record["error"]
        else:
            response = dict(record["result"] or {})
            if info.get("responseType"):
                response = {"@type": info["responseType"], **response}
            body["response"] = response
    return body


def missing(name: str) -> Exception:
    """404 for an unknown operation name."""
    return not_found(f"Operation '{name}' not found.")
