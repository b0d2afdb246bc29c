"""Which objects a constraint's `spec.match` selects, as Gatekeeper decides it.

kinds (apiGroups × kinds, `*` wildcards), scope (`*`, Cluster, Namespaced), namespaces and
excludedNamespaces (a `*` prefix or suffix glob), labelSelector and namespaceSelector. A
cluster-scoped object other than a Namespace is not matched by `namespaces` nor excluded by
`excludedNamespaces`. Namespaces labelled `admission.gatekeeper.sh/ignore` are exempt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.k8s.selectors import match_label_selector

Obj = dict[str, Any]
NamespaceLabels = Callable[[str], "dict[str, str] | None"]
IGNORE_LABEL = "admission.gatekeeper.sh/ignore"


def _glob(patterns: list[str], name: str) -> bool:
    for pattern in patterns:
        if pattern == name:
            return True
        if pattern.endswith("*") and name.startswith(pattern[:-1]):
            return True
        if pattern.startswith("*") and name.endswith(pattern[1:]):
            return True
    return False


def _kind_matches(kinds: list[Obj], obj: Obj) -> bool:
    if not kinds:
        return True
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    for entry in kinds:
        groups = entry.get("apiGroups") or ["*"]
        names = entry.get("kinds") or ["*"]
        if ("*" in groups or group in groups) and ("*" in names or obj.get("kind") in names):
            return True
    return False


def object_namespace(obj: Obj) -> str:
    """The namespace a match is judged on: the object's, or a Namespace's own name."""
    metadata = obj.get("metadata") or {}
    if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
        return str(metadata.get("name") or "")
    return str(metadata.get("namespace") or "")


def matches(constraint: Obj, obj: Obj, namespace_labels: NamespaceLabels) -> bool:
    """Whether `constraint` applies to `obj`."""
    match = (constraint.get("spec") or {}).get("match") or {}
    if not _kind_matches(match.get("kinds") or [], obj):
        return False
    namespace = object_namespace(obj)
    namespaced = bool((obj.get("metadata") or {}).get("namespace"))
    scope = match.get("scope") or "*"
    if (scope == "Cluster" and namespaced) or (scope == "Namespaced" and not namespaced):
        return False
    ns_labels = namespace_labels(namespace) if namespace else None
    if ns_labels is not None and IGNORE_LABEL in ns_labels:
        return False
    if namespace:
        if match.get("namespaces") and not _glob(match["namespaces"], namespace):
            return False
        if _glob(match.get("excludedNamespaces") or [], namespace):
            return False
        selector = match.get("namespaceSelector")
        if selector and not match_label_selector(selector, ns_labels or {}):
            return False
    elif match.get("namespaces") or match.get("namespaceSelector"):
        return False
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return match_label_selector(match.get("labelSelector"), labels)


def enforcement_action(constraint: Obj) -> str:
    """`deny` (the default), `warn` or `dryrun`."""
    return str((constraint.get("spec") or {}).get("enforcementAction") or "deny")
