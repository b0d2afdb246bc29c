"""Applying a sync's declared objects as its reconciler, and pruning what left its source.

Objects are server-side applied (forced) under the field manager `configsync.gke.io`, carrying
Config Sync's annotations and label, by the reconciler's service account: each write is first
authorized by RBAC (a RepoSync reconciler has only what RoleBindings give it; a RootSync
reconciler is bound to cluster-admin), then admitted (Policy Controller, quotas) as that user.
Pruning follows cli-utils' filters as Config Sync configures them: an object annotated to be
kept is let go of (its Config Sync metadata removed), and a RepoSync does not delete another
inventory's object while a RootSync (inventory policy AdoptAll) does.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from sandbox.controllers.knv import APPLY_ERROR, SyncError, group_kind, ref_of
from sandbox.controllers.manifests import Declared, apply_order
from sandbox.k8s.backend import backend
from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import UserInfo, user_info
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.k8s.kinds import Kind
from sandbox.k8s.rbac import Attributes, authorize, forbidden_error
from sandbox.runtime import Runtime

Obj = dict[str, Any]
FIELD_MANAGER = "configsync.gke.io"
SYSTEM_NAMESPACE = "config-management-system"
OWNING_INVENTORY = "config.k8s.io/owning-inventory"
# cli-utils' PreventRemoveFilter: objects so annotated are left in the cluster when pruned.
PREVENT_REMOVE = {
    "client.lifecycle.config.k8s.io/deletion": "detach",
    "cli-utils.sigs.k8s.io/on-remove": "keep",
}
LIFECYCLE_MUTATION = "client.lifecycle.config.k8s.io/mutation"
MANAGED_BY_LABEL, MANAGED_BY_VALUE = "app.kubernetes.io/managed-by", "configmanagement.gke.io"
_PREFIXES = ("configmanagement.gke.io/", "configsync.gke.io/")
_PRUNE_ORDER = {"Namespace": 1, "CustomResourceDefinition": 2}
_PROTECTED_NAMESPACES = frozenset({SYSTEM_NAMESPACE, "default", "kube-system", "kube-public"})


@dataclass(frozen=True)
class Reconciler:
    """Who syncs: a RootSync (namespace config-management-system) or a RepoSync."""

    root: bool
    namespace: str
    name: str

    @property
    def service_account(self) -> str:
        """`root-reconciler[-<name>]` or `ns-reconciler-<ns>[-<name>-<len>]`."""
        if self.root:
            return "root-reconciler" if self.name == "root-sync" else f"root-reconciler-{self.name}"
        if self.name == "repo-sync":
            return f"ns-reconciler-{self.namespace}"
        return f"ns-reconciler-{self.namespace}-{self.name}-{len(self.name)}"

    @property
    def user(self) -> UserInfo:
        return user_info(f"system:serviceaccount:{SYSTEM_NAMESPACE}:{self.service_account}")

    @property
    def inventory_id(self) -> str:
        return f"{self.namespace}_{self.name}"

    @property
    def manager(self) -> str:
        """The `configsync.gke.io/manager` annotation value."""
        return f":root_{self.name}" if self.root else f"{self.namespace}_{self.name}"


def _identity(entry: Obj) -> tuple[str, str, str, str]:
    group = str(entry["apiVersion"]).rpartition("/")[0]
    return group, str(entry["kind"]), str(entry["namespace"]), str(entry["name"])


def _inventory_key(obj: Obj) -> Obj:
    metadata = obj.get("metadata") or {}
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "namespace": metadata.get("namespace", ""),
        "name": metadata["name"],
    }


def annotated(item: Declared, who: Reconciler, commit: str, git: Obj) -> Obj:
    """The object as Config Sync applies it, with its management annotations and label."""
    obj = copy.deepcopy(item.obj)
    metadata = obj["metadata"]
    annotations = metadata.setdefault("annotations", {})
    annotations.update(
        {
            "configmanagement.gke.io/managed": "enabled",
            "configmanagement.gke.io/source-path": item.path,
            "configmanagement.gke.io/token": commit,
            "configsync.gke.io/git-context": json.dumps(
                {"repo": git["repo"], "branch": git["branch"], "rev": git["revision"]},
                separators=(",", ":"),
            ),
            "configsync.gke.io/manager": who.manager,
            "configsync.gke.io/resource-id": item.resource_id(),
            OWNING_INVENTORY: who.inventory_id,
        }
    )
    metadata.setdefault("labels", {})[MANAGED_BY_LABEL] = MANAGED_BY_VALUE
    return obj


class Applier:
    """Applies and prunes one sync's objects in one cluster."""

    def __init__(self, rt: Runtime, cluster_key: str, who: Reconciler) -> None:
        self.who = who
        self.api = ClusterApi(rt, cluster_key, manager=FIELD_MANAGER, user=who.user)
        self._objects = backend(rt).objects(cluster_key)

    def _allowed(self, verb: str, kind: Kind, namespace: str, name: str) -> StatusError | None:
        attrs = Attributes(verb, kind.group, kind.plural, "", namespace, name)
        if authorize(self._objects, self.who.user, attrs).allowed:
            return None
        return forbidden_error(self.who.user, attrs)

    def _apply_one(self, item: Declared, commit: str, git: Obj) -> SyncError | None:
        ref = (ref_of(item.obj, item.path),)
        try:
            kind = self.api.kind(item.api_version, item.kind)
        except KeyError:
            gk = group_kind(item.api_version, item.kind)
            message = f'No CustomResourceDefinition is defined for the type "{gk}" in the cluster.'
            return SyncError("1021", message, ref)
        existing = self.api.get(item.api_version, item.kind, item.name, item.namespace)
        for verb in ("get", "patch" if existing is not None else "create"):
            denied = self._allowed(verb, kind, item.namespace, item.name)
            if denied is not None:
                return SyncError(APPLY_ERROR, denied.message, ref)
        try:
            self.api.apply(annotated(item, self.who, commit, git))
        except StatusError as exc:
            where = f"{item.namespace}/{item.name}" if item.namespace else item.name
            message = f"failed to apply {group_kind(item.api_version, item.kind)}, {where}: "
            return SyncError(APPLY_ERROR, message + exc.message, ref)
        return None

    def apply(self, declared: list[Declared], commit: str, git: Obj) -> list[SyncError]:
        """Apply every declared object (CRDs and Namespaces first); the errors."""
        errors = []
        for item in sorted(declared, key=apply_order):
            error = self._apply_one(item, commit, git)
            if error is not None:
                errors.append(error)
        return errors

    def prune(
        self, previous: list[Obj], declared: list[Declared]
    ) -> tuple[list[Obj], list[SyncError]]:
        """Delete what the previous inventory holds and the source no longer declares.

        Returns the entries still held (those that could not be pruned) and the errors.
        """
        wanted = {_identity(_inventory_key(item.obj)) for item in declared}
        held: list[Obj] = []
        errors: list[SyncError] = []
        leaving = [e for e in previous if _identity(e) not in wanted]
        leaving.sort(key=lambda e: _PRUNE_ORDER.get(e["kind"], 0))
        for entry in leaving:
            error = self._prune_one(entry)
            if error is not None:
                held.append(entry)
                errors.append(error)
        return held, errors

    def _prune_one(self, entry: Obj) -> SyncError | None:
        api_version, kind_name = entry["apiVersion"], entry["kind"]
        namespace, name = entry["namespace"], entry["name"]
        try:
            kind = self.api.kind(api_version, kind_name)
        except KeyError:
            return None  # the kind is gone, and its objects with it
        live = self.api.get(api_version, kind_name, name, namespace)
        if live is None:
            return None
        annotations = live["metadata"].get("annotations") or {}
        if any(annotations.get(key) == value for key, value in PREVENT_REMOVE.items()):
            return self._abandon_one(live)
        if not self._may_prune(annotations.get(OWNING_INVENTORY)):
            return None  # another inventory's object: left, as the inventory policy says
        if kind_name == "Namespace" and name in _PROTECTED_NAMESPACES:
            return None
        denied = self._allowed("delete", kind, namespace, name)
        ref = (ref_of({**entry, "metadata": {"name": name, "namespace": namespace}}),)
        if denied is not None:
            return SyncError(APPLY_ERROR, denied.message, ref)
        try:
            self.api.delete(api_version, kind_name, name, namespace)
        except StatusError as exc:
            return SyncError(APPLY_ERROR, f"failed to delete {name}: {exc.message}", ref)
        return None

    def _may_prune(self, owner: str | None) -> bool:
        """cli-utils' inventory policy: a RootSync's (AdoptAll) prunes whatever its inventory
        holds; a RepoSync's (AdoptIfNoInventory) only objects of no or its own inventory."""
        return owner is None or owner == self.who.inventory_id or self.who.root

    def abandon(self, released: list[Declared]) -> list[SyncError]:
        """Let go of objects the source marks `configmanagement.gke.io/managed: disabled`:
        their Config Sync metadata is removed; they are neither applied nor pruned."""
        errors = []
        for item in released:
            live = self.api.get(item.api_version, item.kind, item.name, item.namespace)
            error = None if live is None else self._abandon_one(live)
            if error is not None:
                errors.append(error)
        return errors

    def _abandon_one(self, live: Obj) -> SyncError | None:
        metadata = live["metadata"]
        patch: Obj = {}
        for field, is_ours in (
            ("annotations", _config_sync_annotation),
            ("labels", _config_sync_label),
        ):
            found = {k: None for k, v in (metadata.get(field) or {}).items() if is_ours(k, v)}
            if found:
                patch[field] = found
        if not patch:
            return None
        namespace = metadata.get("namespace", "")
        try:
            self.api.patch(
                live["apiVersion"], live["kind"], metadata["name"], {"metadata": patch}, namespace
            )
        except StatusError as exc:
            ref = (ref_of(live),)
            message = (
                f"failed to remove the Config Sync metadata from {metadata['name']}: {exc.message}"
            )
            return SyncError(APPLY_ERROR, message, ref)
        return None


def _config_sync_annotation(key: str, value: str) -> bool:
    if key == LIFECYCLE_MUTATION:
        return False
    return key.startswith(_PREFIXES) or key == OWNING_INVENTORY


def _config_sync_label(key: str, value: str) -> bool:
    return key.startswith(_PREFIXES) or (key == MANAGED_BY_LABEL and value == MANAGED_BY_VALUE)


def inventory(declared: list[Declared]) -> list[Obj]:
    """Inventory entries (apiVersion, kind, namespace, name) of declared objects."""
    return [_inventory_key(item.obj) for item in declared]
