"""CustomResourceDefinitions the simulated controllers install, with open schemas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Obj = dict[str, Any]
OPEN_OBJECT: Obj = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def crd(
    group: str,
    kind: str,
    plural: str,
    versions: Sequence[str],
    *,
    namespaced: bool = True,
    short_names: Sequence[str] = (),
    categories: Sequence[str] = (),
    columns: Sequence[tuple[str, str]] = (),
    labels: dict[str, str] | None = None,
) -> Obj:
    """A CRD serving `versions` (the last one stored) with a status subresource and an open
    schema (the simulated controller validates what it needs)."""
    printer = [{"name": name, "type": "string", "jsonPath": path} for name, path in columns]
    served = []
    for version in versions:
        entry: Obj = {
            "name": version,
            "served": True,
            "storage": version == versions[-1],
            "subresources": {"status": {}},
            "schema": {
                "openAPIV3Schema": {
                    "type": "object",
                    "properties": {"spec": OPEN_OBJECT, "status": OPEN_OBJECT},
                }
            },
        }
        if printer:
            entry["additionalPrinterColumns"] = printer
        served.append(entry)
    names: Obj = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
    }
    if short_names:
        names["shortNames"] = list(short_names)
    if categories:
        names["categories"] = list(categories)
    metadata: Obj = {"name": f"{plural}.{group}"}
    if labels:
        metadata["labels"] = dict(labels)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {
            "group": group,
            "names": names,
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": served,
        },
    }


def established(obj: Obj | None) -> bool:
    """Whether a CRD object reports the Established condition."""
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Established" and condition.get("status") == "True":
            return True
    return False
