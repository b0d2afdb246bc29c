"""GKE's Ray operator add-on (`addonsConfig.rayOperatorConfig.enabled`): GKE installs KubeRay's
CRDs (structural schemas, `ray_schema`) and runs the operator itself, for every namespace.

The add-on writes its CRDs whole (as a replace: its schema, nothing left of another's) under
its own field manager and the add-on manager's label. A CRD
Config Sync still manages (`configmanagement.gke.io/managed: enabled` with a matching
`configsync.gke.io/resource-id`, Config Sync's own test) is left alone until Config Sync lets go
of it: the two would otherwise overwrite each other's schema.
"""

from __future__ import annotations

import functools
from typing import Any

from sandbox.controllers.context import Context
from sandbox.controllers.crd_manifests import established
from sandbox.controllers.kuberay_operator import Operator
from sandbox.controllers.ray_schema import (
    RAYCLUSTER_SPEC,
    RAYCLUSTER_STATUS,
    RAYJOB_SPEC,
    RAYJOB_STATUS,
    RAYSERVICE_SPEC,
    RAYSERVICE_STATUS,
    root_schema,
)
from sandbox.gcp.container.cluster_store import find_cluster
from sandbox.k8s.crds import INDEX
from sandbox.k8s.errors import StatusError
from sandbox.k8s.inprocess_client import ClusterApi

Obj = dict[str, Any]
CRD_API = "apiextensions.k8s.io/v1"
ADDONS = "controllers.rayaddon"  # per cluster: the CRD versions last seen, and whether ready
FIELD_MANAGER = "gke-ray-operator-addon"
ADDON_LABEL = ("addonmanager.kubernetes.io/mode", "Reconcile")
OPERATOR = Operator("kube-system", "kuberay-operator", None)
ROLE = "gke-kuberay-operator"
_RULES = [
    {"apiGroups": ["ray.io"], "resources": ["*"], "verbs": ["*"]},
    {
        "apiGroups": [""],
        "resources": ["pods", "services", "events", "serviceaccounts", "configmaps"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "list", "create", "delete"]},
]
# (kind, plural, spec, status, printer columns as (name, type, jsonPath, priority))
_KINDS = (
    (
        "RayCluster",
        "rayclusters",
        RAYCLUSTER_SPEC,
        RAYCLUSTER_STATUS,
        (
            ("desired workers", "integer", ".status.desiredWorkerReplicas", 0),
            ("available workers", "integer", ".status.availableWorkerReplicas", 0),
            ("cpus", "string", ".status.desiredCPU", 0),
            ("memory", "string", ".status.desiredMemory", 0),
            ("gpus", "string", ".status.desiredGPU", 0),
            ("tpus", "string", ".status.desiredTPU", 1),
            ("status", "string", ".status.state", 0),
            ("age", "date", ".metadata.creationTimestamp", 0),
            ("head pod IP", "string", ".status.head.podIP", 1),
            ("head service IP", "string", ".status.head.serviceIP", 1),
        ),
    ),
    (
        "RayJob",
        "rayjobs",
        RAYJOB_SPEC,
        RAYJOB_STATUS,
        (
            ("job status", "string", ".status.jobStatus", 0),
            ("deployment status", "string", ".status.jobDeploymentStatus", 0),
            ("ray cluster name", "string", ".status.rayClusterName", 0),
            ("start time", "string", ".status.startTime", 0),
            ("end time", "string", ".status.endTime", 0),
            ("age", "date", ".metadata.creationTimestamp", 0),
        ),
    ),
    (
        "RayService",
        "rayservices",
        RAYSERVICE_SPEC,
        RAYSERVICE_STATUS,
        (
            ("service status", "string", ".status.serviceStatus", 0),
            ("num serve endpoints", "string", ".status.numServeEndpoints", 0),
        ),
    ),
)


def _crd(kind: str, plural: str, spec: Obj, status: Obj, columns: tuple[Any, ...]) -> Obj:
    printer = []
    for name, kind_of, path, priority in columns:
        column: Obj = {"name": name, "type": kind_of, "jsonPath": path}
        if priority:
            column["priority"] = priority
        printer.append(column)
    return {
        "apiVersion": CRD_API,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.ray.io", "labels": dict([ADDON_LABEL])},
        "spec": {
            "group": "ray.io",
            "names": {
                "categories": ["all"],
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
            },
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": printer,
                    "schema": {
                        "openAPIV3Schema": root_schema(spec, status, f"{kind} is KubeRay's {kind}.")
                    },
                }
            ],
        },
    }


@functools.cache
def ray_crds() -> tuple[Obj, ...]:
    """The CRDs the add-on installs: RayCluster, RayJob, RayService (`ray.io/v1`)."""
    return tuple(_crd(*entry) for entry in _KINDS)


def addon_enabled(ctx: Context, cluster_key: str) -> bool:
    """Whether the GKE cluster behind cluster_key has the Ray operator add-on enabled."""
    parts = cluster_key.split("/")
    if len(parts) != 6:
        return False
    cluster = find_cluster(ctx.rt, parts[1], parts[3], parts[5]) or {}
    config = (cluster.get("addonsConfig") or {}).get("rayOperatorConfig") or {}
    return bool(config.get("enabled"))


def managed_by_config_sync(obj: Obj) -> bool:
    """Config Sync's own test: `managed: enabled` and a resource-id naming this very object."""
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    namespace = f"_{metadata['namespace']}" if metadata.get("namespace") else ""
    gknn = f"{group}_{str(obj.get('kind', '')).lower()}{namespace}_{metadata.get('name', '')}"
    return (
        annotations.get("configmanagement.gke.io/managed") == "enabled"
        and annotations.get("configsync.gke.io/resource-id") == gknn
    )


def owned_by_addon(crd: Obj | None) -> bool:
    """A CRD the add-on serves: its label, and not Config Sync's."""
    labels = ((crd or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(ADDON_LABEL[0]) == ADDON_LABEL[1] and not managed_by_config_sync(crd or {})


def _ensure_rbac(api: ClusterApi) -> None:
    role: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE, "labels": dict([ADDON_LABEL])},
        "rules": _RULES,
    }
    binding: Obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": ROLE, "labels": dict([ADDON_LABEL])},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE},
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": OPERATOR.service_account,
                "namespace": OPERATOR.namespace,
            }
        ],
    }
    for obj in (role, binding):
        if api.get(obj["apiVersion"], obj["kind"], ROLE) is None:
            api.create(obj)


def _adopted(live: Obj, crd: Obj) -> Obj:
    """The add-on's CRD replacing what is there (a schema left by another manager included),
    keeping the live object's other labels and annotations."""
    metadata = dict(live["metadata"])
    metadata["labels"] = {**(metadata.get("labels") or {}), **crd["metadata"]["labels"]}
    return {**live, "spec": crd["spec"], "metadata": metadata}


def _versions(ctx: Context, cluster_key: str) -> list[str]:
    """The stored resourceVersions of the Ray CRDs, from the cluster's CRD index (no read of
    the large CRDs themselves)."""
    index = ctx.rt.store.get(INDEX, cluster_key) or {}
    return [str((index.get(c["metadata"]["name"]) or {}).get("rv", "")) for c in ray_crds()]


def reconcile_ray_addon(ctx: Context, cluster_key: str) -> Operator | None:
    """Install (or adopt) the add-on's CRDs; the add-on's operator once they are established.
    The CRDs are read again only when one of them changed since the last pass."""
    if not addon_enabled(ctx, cluster_key):
        return None
    record = ctx.rt.store.get(ADDONS, cluster_key) or {}
    if record.get("versions") == _versions(ctx, cluster_key):
        return OPERATOR if record.get("ready") else None
    api = ClusterApi(ctx.rt, cluster_key, manager=FIELD_MANAGER)
    ready = True
    for crd in ray_crds():
        live = api.get(CRD_API, "CustomResourceDefinition", crd["metadata"]["name"])
        if live is not None and managed_by_config_sync(live):
            ready = ready and established(live)
            continue
        if live is None or live.get("spec") != crd["spec"] or not owned_by_addon(live):
            try:
                live = api.create(crd) if live is None else api.update(_adopted(live, crd))
            except StatusError:
                ready = False
                continue
        ready = ready and established(live)
    if ready:
        _ensure_rbac(api)
    versions = _versions(ctx, cluster_key)
    ctx.rt.store.put(ADDONS, cluster_key, {"versions": versions, "ready": ready})
    return OPERATOR if ready else None
