"""The sandbox's Kubernetes clusters: created when a GKE cluster runs, dropped when it goes.

A fresh cluster has the namespaces `default`, `kube-system`, `kube-public`, `kube-node-lease`
(each with its `default` ServiceAccount and `kube-root-ca.crt`), the default ClusterRoles
and ClusterRoleBindings, the `default/kubernetes` Service and, for a GKE cluster (its ranges
given), GKE's system workloads. Everything is kept in `rt.store`, so it survives a sandbox restart.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from sandbox.k8s import builtin_controllers
from sandbox.k8s.backend import Backend, backend
from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.crds import INDEX
from sandbox.k8s.default_rbac import default_cluster_role_bindings, default_cluster_roles
from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import TOKENS, register_token
from sandbox.k8s.ip_ranges import CLUSTERS, networks_of
from sandbox.k8s.kinds import builtin
from sandbox.k8s.system_workloads import system_objects
from sandbox.k8s.verbs import create
from sandbox.k8s.writes import WriteOptions
from sandbox.runtime import Runtime

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
_BOOTSTRAP = WriteOptions(manager="kube-apiserver")


def open_cluster(shared: Backend, cluster_key: str) -> Cluster:
    """A cluster bound to its backend, with the built-in builtin_controllers."""
    return Cluster(shared, cluster_key, react=builtin_controllers.react)


class ClusterRegistry:
    """Create, delete and look up clusters; map tokens to identities."""

    def __init__(self, rt: Runtime) -> None:
        self.backend = backend(rt)
        self.store = rt.store

    def exists(self, cluster_key: str) -> bool:
        """True while the cluster exists."""
        return self.store.get(CLUSTERS, cluster_key) is not None

    def keys(self) -> list[str]:
        """Every cluster's key."""
        return [key for key, _ in self.store.items(CLUSTERS)]

    def create(self, cluster_key: str, networks: dict[str, str] | None = None) -> None:
        """Make a cluster with its system namespaces, default RBAC and (GKE's `networks`:
        pods, services, nodes, master) system workloads; nothing if it exists."""
        with self.store.transaction():
            if self.exists(cluster_key):
                return
            record = {"key": cluster_key, "created": self.backend.rt.now()}
            if networks:
                record["networks"] = {k: v for k, v in networks.items() if v}
            self.store.put(CLUSTERS, cluster_key, record)
        cluster = open_cluster(self.backend, cluster_key)
        seeds = [(builtin("Namespace"), {"metadata": {"name": n}}) for n in SYSTEM_NAMESPACES]
        seeds += [(builtin("ClusterRole"), role) for role in default_cluster_roles()]
        seeds += [(builtin("ClusterRoleBinding"), b) for b in default_cluster_role_bindings()]
        for obj in system_objects(networks_of(self.store, cluster_key)):
            if networks or obj["metadata"]["namespace"] == "default":
                seeds.append((builtin(obj["kind"]), obj))
        for kind, body in seeds:
            namespace = body["metadata"].get("namespace", "") if kind.namespaced else ""
            try:
                create(cluster, Ref(kind, namespace), body, _BOOTSTRAP)
            except StatusError as exc:
                if exc.code != 409:
                    raise

    def delete(self, cluster_key: str) -> None:
        """Forget a cluster and all its objects (nothing if it does not exist)."""
        self.backend.objects(cluster_key).drop_all()
        with self.store.transaction():
            self.store.delete(CLUSTERS, cluster_key)
            self.store.delete(INDEX, cluster_key)
            for key, _ in self.store.items(TOKENS, f"{cluster_key}|"):
                self.store.delete(TOKENS, key)

    def register_token(
        self, cluster_key: str, token: str, user: str, groups: Iterable[str] = ()
    ) -> None:
        """Let a bearer token act as user (in groups) on a cluster, or on every cluster (`*`)."""
        register_token(self.store, cluster_key, token, user, groups)

    def service_account_token(self, cluster_key: str, namespace: str, name: str) -> str:
        """A new token for a service account (the account itself need not exist)."""
        token = f"sa-{secrets.token_hex(16)}"
        self.register_token(cluster_key, token, f"system:serviceaccount:{namespace}:{name}")
        return token

    def resume(self) -> None:
        """Continue background work left when the sandbox stopped (Terminating namespaces)."""
        for key in self.keys():
            builtin_controllers.resume_purges(open_cluster(self.backend, key))
