"""An in-process client of one cluster for simulated controllers (no HTTP, system:masters).

api = ClusterApi(rt, "projects/p/locations/l/clusters/c")
api.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {...}, "data": {...}})
api.patch_status("ray.io/v1", "RayCluster", "ray", {"state": "ready"}, namespace="team-a")
api.on_change(lambda event_type, obj: ...)
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.k8s.backend import backend
from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.cluster_registry import ClusterRegistry, open_cluster
from sandbox.k8s.errors import StatusError, bad_request
from sandbox.k8s.hooks import AdmissionFn, ChangeFn, Unsubscribe
from sandbox.k8s.identity import ADMIN, UserInfo
from sandbox.k8s.kinds import Kind
from sandbox.k8s.patch_formats import MERGE_PATCH
from sandbox.k8s.patch_verb import apply, patch
from sandbox.k8s.selectors import selector_matcher
from sandbox.k8s.verbs import create, delete, get, list_objects, update
from sandbox.k8s.writes import WriteOptions
from sandbox.runtime import Runtime

Obj = dict[str, Any]


class ClusterApi:
    """Read and write one cluster's objects in-process, as `user` (default: system:masters)."""

    def __init__(
        self, rt: Runtime, cluster_key: str, manager: str = "sandbox", user: UserInfo = ADMIN
    ) -> None:
        self.cluster_key = cluster_key
        self.manager = manager
        self.user = user
        self._backend = backend(rt)
        self._registry = ClusterRegistry(rt)

    def _cluster(self) -> Cluster:
        if not self._registry.exists(self.cluster_key):
            raise KeyError(f"no cluster {self.cluster_key}")
        return open_cluster(self._backend, self.cluster_key)

    def kind(self, api_version: str, kind: str) -> Kind:
        """A served kind (KeyError when the cluster does not serve it)."""
        found = self._cluster().kinds().by_gvk(api_version, kind)
        if found is None:
            raise KeyError(f"{kind} in {api_version} is not served by {self.cluster_key}")
        return found

    def _options(self, **overrides: Any) -> WriteOptions:
        return WriteOptions(user=self.user, manager=self.manager, **overrides)

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Obj | None:
        """The object, or None."""
        try:
            return get(self._cluster(), Ref(self.kind(api_version, kind), namespace, name))
        except StatusError as exc:
            if exc.code == 404:
                return None
            raise

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, label_selector: str = ""
    ) -> list[Obj]:
        """Objects of a kind (in a namespace, or all), optionally filtered by labels."""
        found = self.kind(api_version, kind)
        items, _ = list_objects(self._cluster(), found, namespace)
        matches = selector_matcher(label_selector, "", found.kind)
        return [item for item in items if matches(item)]

    def create(self, obj: Obj) -> Obj:
        """Create an object (StatusError 409 when it exists)."""
        found = self.kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        namespace = (obj.get("metadata") or {}).get("namespace", "") if found.namespaced else ""
        return create(self._cluster(), Ref(found, namespace), obj, self._options()).obj

    def update(self, obj: Obj) -> Obj:
        """Replace an object (PUT): fields it leaves out are removed, whoever set them."""
        found = self.kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        metadata = obj.get("metadata") or {}
        namespace = metadata.get("namespace", "") if found.namespaced else ""
        ref = Ref(found, namespace, metadata.get("name", ""))
        return update(self._cluster(), ref, obj, self._options()).obj

    def apply(self, obj: Obj, force: bool = True, manager: str = "") -> Obj:
        """Server-side apply an object as `manager` (conflicts forced unless force=False)."""
        found = self.kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        metadata = obj.get("metadata") or {}
        if not metadata.get("name"):
            raise bad_request("metadata.name is required to apply an object")
        ref = Ref(
            found, metadata.get("namespace", "") if found.namespaced else "", metadata["name"]
        )
        opts = WriteOptions(user=self.user, manager=manager or self.manager, force=force)
        return apply(self._cluster(), ref, obj, opts).obj

    def patch_status(
        self, api_version: str, kind: str, name: str, status: Obj, namespace: str = ""
    ) -> Obj:
        """Merge-patch an object's status through its /status subresource."""
        ref = Ref(self.kind(api_version, kind), namespace, name)
        body = json.dumps({"status": status}).encode()
        opts = self._options(subresource="status" if ref.kind.status else "")
        return patch(self._cluster(), ref, MERGE_PATCH, body, opts).obj

    def patch(self, api_version: str, kind: str, name: str, body: Obj, namespace: str = "") -> Obj:
        """Merge-patch an object."""
        ref = Ref(self.kind(api_version, kind), namespace, name)
        return patch(
            self._cluster(), ref, MERGE_PATCH, json.dumps(body).encode(), self._options()
        ).obj

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
        """Delete an object; False when it did not exist."""
        try:
            delete(
                self._cluster(), Ref(self.kind(api_version, kind), namespace, name), self._options()
            )
        except StatusError as exc:
            if exc.code == 404:
                return False
            raise
        return True

    def on_change(self, fn: ChangeFn) -> Unsubscribe:
        """Call fn(event_type, obj) after each stored change in this cluster."""
        return self._backend.hooks.on_change(self.cluster_key, fn)

    def admission(self, fn: AdmissionFn) -> Unsubscribe:
        """Call fn(operation, obj, old, user) before each create/update in this cluster."""
        return self._backend.hooks.admission(self.cluster_key, fn)
