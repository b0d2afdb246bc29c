"""A cluster's objects in the sandbox store, with resourceVersions and change events.

Keys are `<cluster>|<group>/<plural>|<namespace>|<name>` in collection `k8s.objects`; each
cluster counts its resourceVersions in `k8s.rv` (kept when the cluster is deleted, so versions
never repeat).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.k8s.watch import Event, WatchHub
from sandbox.store import Store

Obj = dict[str, Any]
OBJECTS = "k8s.objects"
VERSIONS = "k8s.rv"


class ClusterObjects:
    """Storage for one cluster; writes belong inside `store.transaction()`."""

    def __init__(self, store: Store, hub: WatchHub, cluster: str) -> None:
        self.store = store
        self.hub = hub
        self.cluster = cluster

    def _key(self, storage: str, namespace: str, name: str) -> str:
        return f"{self.cluster}|{storage}|{namespace}|{name}"

    def get(self, storage: str, namespace: str, name: str) -> Obj | None:
        """The stored object, or None."""
        return self.store.get(OBJECTS, self._key(storage, namespace, name))

    def select(self, storage: str, namespace: str | None = None) -> list[Obj]:
        """Objects of a kind, in one namespace or all (None), ordered by namespace and name."""
        prefix = f"{self.cluster}|{storage}|"
        if namespace is not None:
            prefix += f"{namespace}|"
        return self.store.values(OBJECTS, prefix)

    def in_namespace(self, namespace: str) -> list[tuple[str, Obj]]:
        """(storage, object) of every object in a namespace."""
        found = []
        for key, obj in self.store.items(OBJECTS, f"{self.cluster}|"):
            _, storage, obj_namespace, _ = key.split("|", 3)
            if obj_namespace == namespace:
                found.append((storage, obj))
        return found

    def current_rv(self) -> int:
        """The cluster's latest resourceVersion."""
        doc = self.store.get(VERSIONS, self.cluster) or {}
        return int(doc.get("rv", 0))

    def _next_rv(self) -> int:
        rv = self.current_rv() + 1
        self.store.put(VERSIONS, self.cluster, {"rv": rv})
        return rv

    def put(self, storage: str, obj: Obj, old: Obj | None) -> Event:
        """Store obj with a new resourceVersion (set in obj too); publish ADDED or MODIFIED."""
        metadata = obj["metadata"]
        rv = self._next_rv()
        metadata["resourceVersion"] = str(rv)
        namespace = str(metadata.get("namespace", ""))
        self.store.put(OBJECTS, self._key(storage, namespace, metadata["name"]), obj)
        event = Event(
            rv, "ADDED" if old is None else "MODIFIED", storage, namespace, copy.deepcopy(obj), old
        )
        self.hub.publish(self.cluster, event)
        return event

    def remove(self, storage: str, obj: Obj) -> Event:
        """Delete obj; publish DELETED carrying its last state at a new resourceVersion."""
        metadata = obj["metadata"]
        namespace = str(metadata.get("namespace", ""))
        self.store.delete(OBJECTS, self._key(storage, namespace, metadata["name"]))
        rv = self._next_rv()
        last = copy.deepcopy(obj)
        last["metadata"]["resourceVersion"] = str(rv)
        event = Event(rv, "DELETED", storage, namespace, last, obj)
        self.hub.publish(self.cluster, event)
        return event

    def drop_all(self) -> None:
        """Forget every object of the cluster (it was deleted)."""
        with self.store.transaction():
            for key, _ in self.store.items(OBJECTS, f"{self.cluster}|"):
                self.store.delete(OBJECTS, key)
        self.hub.forget(self.cluster, self.current_rv())
