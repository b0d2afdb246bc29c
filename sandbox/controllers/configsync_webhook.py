"""Config Sync's guard of the objects it manages, per cluster.

With `configSync.preventDrift` its admission webhook refuses a change by anyone but Config
Sync's reconcilers, with the messages of kpt-config-sync's `pkg/webhook` validator: creating or
deleting a managed object ("requester is not authorized to … managed resources", reason
Unauthorized, which kubectl prints as "You must be logged in to the server"), changing Config
Sync's labels or annotations, or changing a field Config Sync declared (the fields its field
manager owns). Without it, the change goes through and Config Sync's remediator puts the
object back at its next pass over the sync (seconds), not at the hourly resync.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.controllers.applier import FIELD_MANAGER, SYSTEM_NAMESPACE
from sandbox.controllers.ray_addon import managed_by_config_sync
from sandbox.controllers.reconciler import mark_drifted, sync_key
from sandbox.k8s.fieldsets import MISSING, dotted, from_fields_v1, value_at
from sandbox.k8s.hooks import AdmissionFn, Denied
from sandbox.k8s.identity import UserInfo
from sandbox.runtime import Runtime

Obj = dict[str, Any]
WEBHOOK = 'admission webhook "v1.admission-webhook.configsync.gke.io" denied the request: '
MANAGED = ("configmanagement.gke.io/managed", "enabled")
MANAGER_ANNOTATION = "configsync.gke.io/manager"
_METADATA_PREFIXES = ("configmanagement.gke.io/", "configsync.gke.io/")
_METADATA_LABELS = ("app.kubernetes.io/managed-by",)
_RECONCILERS = f"system:serviceaccount:{SYSTEM_NAMESPACE}:"


def managed(obj: Obj | None) -> bool:
    """Whether Config Sync manages obj: `configmanagement.gke.io/managed` enabled and a
    resource-id naming obj itself (a ReplicaSet carries its Deployment's annotations, and
    Config Sync's webhook leaves it alone)."""
    return obj is not None and managed_by_config_sync(obj)


def _config_sync_metadata(old: Obj, new: Obj) -> list[str]:
    """Config Sync's labels and annotations that differ between old and new."""
    found = []
    for field in ("labels", "annotations"):
        before = (old.get("metadata") or {}).get(field) or {}
        after = (new.get("metadata") or {}).get(field) or {}
        for key in sorted(set(before) | set(after)):
            ours = key.startswith(_METADATA_PREFIXES) or key in _METADATA_LABELS
            if ours and before.get(key) != after.get(key):
                found.append(f".metadata.{field}.{key}")
    return found


def _declared_changes(old: Obj, new: Obj) -> list[str]:
    """Fields Config Sync's field manager owns whose value differs between old and new."""
    owned: set[tuple[str, ...]] = set()
    for entry in (old.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") == FIELD_MANAGER and entry.get("fieldsV1"):
            owned |= from_fields_v1(entry["fieldsV1"])
    changed = []
    for path in sorted(owned):
        if path[:2] in (("f:metadata", "f:labels"), ("f:metadata", "f:annotations")):
            continue  # Config Sync's own metadata is the check above; the rest is the spec's
        before, after = value_at(old, path), value_at(new, path)
        if before != after and not (before is MISSING and after is MISSING):
            changed.append(dotted(path))
    return changed


def _drifted_sync(cluster_key: str, obj: Obj) -> str | None:
    """The sync key of the RootSync or RepoSync that manages obj."""
    manager = ((obj.get("metadata") or {}).get("annotations") or {}).get(MANAGER_ANNOTATION, "")
    scope, _, name = manager.partition("_")
    if not name:
        return None
    if scope == ":root":
        return sync_key(cluster_key, "RootSync", SYSTEM_NAMESPACE, name)
    return sync_key(cluster_key, "RepoSync", scope, name)


def admission(rt: Runtime, cluster_key: str, prevent: Callable[[], bool | None]) -> AdmissionFn:
    """The webhook of one cluster. `prevent()`: True with preventDrift, False without (the
    remediator notes the drift), None when Config Sync is not installed."""

    def admit(operation: str, obj: Obj, old: Obj | None, user: UserInfo) -> list[str] | None:
        if user.name.startswith(_RECONCILERS) or not (managed(obj) or managed(old)):
            return None
        mode = prevent()
        if mode is None:
            return None
        if operation == "CREATE":
            problem, reason = "requester is not authorized to create managed resources", True
        elif operation == "DELETE":
            problem, reason = "requester is not authorized to delete managed resources", True
        elif metadata := _config_sync_metadata(old or {}, obj):
            problem = "Config Sync metadata can not be modified: " + ", ".join(metadata)
            reason = False
        elif fields := _declared_changes(old or {}, obj):
            problem = "fields managed by Config Sync can not be modified: " + ", ".join(fields)
            reason = False
        else:
            return None
        if mode:
            raise Denied(WEBHOOK + problem, reason="Unauthorized" if reason else "Forbidden")
        sync = _drifted_sync(cluster_key, old or obj)
        if sync is not None:
            mark_drifted(rt, sync)
        return None

    return admit
