"""KubeRay, which GKE's Ray operator add-on installs and runs (`cluster.ray_operator`): the
names of its CRDs, and the open CRDs mlplat committed before the add-on, now rendered only to
let Config Sync go of them (`configmanagement.gke.io/managed: disabled`) when an environment
moves to the add-on: removed from Git while Config Sync still manages them, they would be
pruned, and every team's RayCluster with them."""

from __future__ import annotations

from typing import Any

Manifest = dict[str, Any]

NAMESPACE = "kuberay-system"  # where mlplat's own operator ran before the add-on
CRD_KINDS = (("RayCluster", "rayclusters"), ("RayJob", "rayjobs"), ("RayService", "rayservices"))
RAY_GROUP = "ray.io"
RELEASED = {"configmanagement.gke.io/managed": "disabled"}


def crd_names() -> list[str]:
    """`rayclusters.ray.io`, `rayjobs.ray.io`, `rayservices.ray.io`."""
    return [f"{plural}.{RAY_GROUP}" for _, plural in CRD_KINDS]


def released_crd(name: str) -> Manifest:
    """The CRD `name` as mlplat committed it before the add-on, marked for Config Sync to let
    go of it (it is then neither applied nor pruned)."""
    kind = next(k for k, plural in CRD_KINDS if f"{plural}.{RAY_GROUP}" == name)
    plural = name.split(".", 1)[0]
    open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name, "annotations": dict(RELEASED)},
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
