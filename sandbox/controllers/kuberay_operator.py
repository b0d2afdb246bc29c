"""The KubeRay operator: "running" once the Ray CRDs are established and a Deployment named
`kuberay-operator` (any namespace) has been up for the modelled start-up time, watching the
namespaces of its `--watch-namespace` argument (all when absent or empty).

Its Deployment's pods are the workload controllers' and kubelets' (available once they run);
the operator's own start-up is on top. Start-up state per cluster lives in `controllers.kuberay`
(key: cluster key).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.controllers import settings as timing
from sandbox.controllers.context import Context
from sandbox.controllers.crd_manifests import established
from sandbox.k8s.inprocess_client import ClusterApi

Obj = dict[str, Any]
OPERATORS = "controllers.kuberay"
NAME = "kuberay-operator"
RAY_CRD = "rayclusters.ray.io"
FLAG = "--watch-namespace"


@dataclass(frozen=True)
class Operator:
    """A running operator: where it runs, as whom, and which namespaces it watches."""

    namespace: str
    service_account: str
    watched: frozenset[str] | None  # None: every namespace

    def watches(self, namespace: str) -> bool:
        """Whether RayClusters in `namespace` are reconciled."""
        return self.watched is None or namespace in self.watched


def watched_namespaces(deployment: Obj) -> frozenset[str] | None:
    """The `--watch-namespace` value of the operator's containers (None: all namespaces)."""
    template = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    for container in template.get("containers") or []:
        args = [str(a) for a in (container.get("command") or []) + (container.get("args") or [])]
        for index, arg in enumerate(args):
            value = None
            if arg.startswith(FLAG + "="):
                value = arg.split("=", 1)[1]
            elif arg == FLAG and index + 1 < len(args):
                value = args[index + 1]
            if value is not None:
                names = frozenset(n.strip() for n in value.split(",") if n.strip())
                return names or None
    return None


def _available(deployment: Obj) -> bool:
    status = deployment.get("status") or {}
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    current = status.get("observedGeneration") == deployment["metadata"].get("generation", 1)
    return current and int(status.get("availableReplicas") or 0) >= replicas


def _deployment(api: ClusterApi, namespace: str | None) -> Obj | None:
    """The operator's Deployment: where it was last found (one read), else the first of any
    namespace (a list of every Deployment, notebooks included)."""
    known = api.get("apps/v1", "Deployment", NAME, namespace) if namespace else None
    if known is not None and not known["metadata"].get("deletionTimestamp"):
        return known
    for found in api.list("apps/v1", "Deployment"):
        if found["metadata"]["name"] == NAME and not found["metadata"].get("deletionTimestamp"):
            return found
    return None


def running_operator(ctx: Context, cluster_key: str) -> Operator | None:
    """The cluster's KubeRay operator when it runs; advances its start-up on the way."""
    store = ctx.rt.store
    api = ClusterApi(ctx.rt, cluster_key, manager="kube-controller-manager")
    crd = api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", RAY_CRD)
    record = store.get(OPERATORS, cluster_key) or {}
    found = _deployment(api, record.get("namespace"))
    if not established(crd) or found is None:
        store.delete(OPERATORS, cluster_key)
        return None
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", **found}
    metadata = deployment["metadata"]
    revision = [metadata.get("uid"), metadata.get("generation")]
    if record.get("revision") != revision:
        record = {
            "namespace": metadata["namespace"],
            "revision": revision,
            "readyAt": ctx.now + timing.delay(ctx.rt, timing.OPERATOR_READY),
        }
        store.put(OPERATORS, cluster_key, record)
    if ctx.now < record["readyAt"] or not _available(deployment):
        return None
    template = ((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}
    account = str(template.get("serviceAccountName") or "default")
    return Operator(str(metadata["namespace"]), account, watched_namespaces(deployment))
