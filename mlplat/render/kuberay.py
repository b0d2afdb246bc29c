"""The KubeRay operator as hydrated manifests for the cluster's RootSync: CRDs, namespace,
service account, RBAC and the operator Deployment watching the teams' namespaces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlplat.render.desired import MANAGED_BY_VALUE, PART_OF_LABEL

Manifest = dict[str, Any]

NAMESPACE = "kuberay-system"
OPERATOR = "kuberay-operator"
IMAGE = "quay.io/kuberay/operator"
CRD_KINDS = (("RayCluster", "rayclusters"), ("RayJob", "rayjobs"), ("RayService", "rayservices"))
RAY_GROUP = "ray.io"


def crd(kind: str, plural: str) -> Manifest:
    """A Ray CRD. Spec and status are kept open (the operator validates them); a structural
    schema still lets the API server store, select and serve status subresources."""
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{RAY_GROUP}"},
        "spec": {
            "group": RAY_GROUP,
            "names": {
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
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": open_object, "status": open_object},
                        }
                    },
                }
            ],
        },
    }


def operator(version: str, watch_namespaces: Sequence[str]) -> list[Manifest]:
    """Everything the operator needs, watching exactly `watch_namespaces` (sorted)."""
    labels = {"app.kubernetes.io/name": OPERATOR, PART_OF_LABEL: MANAGED_BY_VALUE}
    watched = sorted(watch_namespaces)
    rules = [
        {"apiGroups": [RAY_GROUP], "resources": ["*"], "verbs": ["*"]},
        {
            "apiGroups": [""],
            "resources": ["pods", "services", "events", "serviceaccounts", "configmaps"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
        },
        {
            "apiGroups": ["batch"],
            "resources": ["jobs"],
            "verbs": ["get", "list", "watch", "create", "delete"],
        },
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "create", "update"],
        },
    ]
    return [
        *(crd(kind, plural) for kind, plural in CRD_KINDS),
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": labels},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": OPERATOR, "namespace": NAMESPACE, "labels": labels},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": OPERATOR, "labels": labels},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": OPERATOR, "labels": labels},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": OPERATOR,
            },
            "subjects": [{"kind": "ServiceAccount", "name": OPERATOR, "namespace": NAMESPACE}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": OPERATOR, "namespace": NAMESPACE, "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": OPERATOR}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": OPERATOR,
                        "securityContext": {"runAsNonRoot": True},
                        "containers": [
                            {
                                "name": OPERATOR,
                                "image": f"{IMAGE}:v{version}",
                                "args": [f"--watch-namespace={','.join(watched)}"]
                                if watched
                                else [],
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "256Mi"},
                                    "limits": {"cpu": "500m", "memory": "512Mi"},
                                },
                                "securityContext": {
                                    "allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                },
                            }
                        ],
                    },
                },
            },
        },
    ]
