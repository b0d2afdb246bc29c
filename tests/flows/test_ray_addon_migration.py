"""An environment set up before GKE's Ray operator add-on (KubeRay's open CRDs and operator
committed to Git by mlplat, synced by Config Sync) moves to the add-on in one run: the add-on is
enabled in place, Config Sync lets go of the CRDs before they leave Git (so it prunes neither
them nor the teams' RayClusters), the operator leaves, and the next run changes nothing."""

from __future__ import annotations

import time
from typing import Any

import yaml
from google.cloud import container_v1
from kubernetes import client

from flows.provision_environment import provision_environment
from mlplat.render import kuberay
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.platform_clients import kube, repo, status_of
from tests.sandbox.conftest import client_kwargs

CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"
OPERATOR_FILE = "manifests/clusters/kuberay/operator.yaml"
# What mlplat committed before the add-on: KubeRay's CRDs (open schemas) and its operator.
OLD_OPERATOR = """\
apiVersion: v1
kind: Namespace
metadata: {name: kuberay-system}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: kuberay-operator, namespace: kuberay-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kuberay-operator, namespace: kuberay-system}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: kuberay-operator}}
  template:
    metadata: {labels: {app.kubernetes.io/name: kuberay-operator}}
    spec:
      serviceAccountName: kuberay-operator
      containers:
      - {name: kuberay-operator, image: "quay.io/kuberay/operator:v1.4.2"}
"""


def _run(sandbox: Sandbox) -> dict[str, Any]:
    result: dict[str, Any] = provision_environment(
        "dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
    )
    return result


def _crd(api: client.ApiClient, name: str) -> dict[str, Any]:
    found = client.ApiextensionsV1Api(api).read_custom_resource_definition(name)
    return dict(api.sanitize_for_serialization(found))


def _managed_by_config_sync(crd: dict[str, Any]) -> bool:
    annotations = crd["metadata"].get("annotations") or {}
    return annotations.get("configmanagement.gke.io/managed") == "enabled"


def _back_to_before_the_addon(sandbox: Sandbox, api: client.ApiClient) -> None:
    """The add-on off, and KubeRay from Git as mlplat committed it before."""
    container = container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))
    update = container_v1.ClusterUpdate(
        desired_addons_config=container_v1.AddonsConfig(
            ray_operator_config=container_v1.RayOperatorConfig(enabled=False)
        )
    )
    container.update_cluster(name=CLUSTER, update=update)
    deadline = time.monotonic() + 20
    while container.get_cluster(name=CLUSTER).status != container_v1.Cluster.Status.RUNNING:
        assert time.monotonic() < deadline, "the add-on update did not finish"
        time.sleep(0.1)
    crds = [
        {**crd, "metadata": {"name": crd["metadata"]["name"]}}
        for crd in (kuberay.released_crd(name) for name in kuberay.crd_names())
    ]
    old = OLD_OPERATOR + "---\n" + yaml.safe_dump_all(crds)
    repo(sandbox).create_file(OPERATOR_FILE, "KubeRay as before the add-on", old, branch="dev")
    deadline = time.monotonic() + 30
    while not all(_managed_by_config_sync(_crd(api, n)) for n in kuberay.crd_names()):
        assert time.monotonic() < deadline, "Config Sync did not take the Ray CRDs"
        time.sleep(0.1)


def test_an_environment_moves_to_the_ray_addon_and_keeps_team_rayclusters(
    sandbox: Sandbox,
) -> None:
    _run(sandbox)
    api = kube(sandbox, "dev")
    _back_to_before_the_addon(sandbox, api)
    custom = client.CustomObjectsApi(api)
    before = custom.get_namespaced_custom_object(
        "ray.io", "v1", "vision", "rayclusters", "vision-ray"
    )

    moved = _run(sandbox)
    rows = {row["resource"]: row for row in moved["rows"]}
    assert rows["gke/cluster mlp-dev"]["action"] == "update", "the add-on enabled in place"
    manifests = rows["git/manifests dev"]
    assert manifests["action"] == "update" and ", then " in manifests["detail"], manifests
    assert rows["gate/crds ray.io"]["detail"] == "3 CRDs established"

    for name in kuberay.crd_names():
        crd = _crd(api, name)
        assert not _managed_by_config_sync(crd)
        assert crd["metadata"]["labels"]["addonmanager.kubernetes.io/mode"] == "Reconcile"
        spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
        assert "x-kubernetes-preserve-unknown-fields" not in spec, "the add-on's schema"
    after = custom.get_namespaced_custom_object(
        "ray.io", "v1", "vision", "rayclusters", "vision-ray"
    )
    assert after["metadata"]["uid"] == before["metadata"]["uid"], "the team's RayCluster survived"
    apps = client.AppsV1Api(api)
    deployment = lambda: apps.read_namespaced_deployment("kuberay-operator", "kuberay-system")  # noqa: E731
    assert status_of(deployment) == 404, "mlplat's operator pruned"
    tree = repo(sandbox).get_git_tree("dev", recursive=True)
    assert not [e.path for e in tree.tree if e.path.startswith("manifests/clusters/kuberay")]

    admin(sandbox, "POST", "/counters/reset")
    again = _run(sandbox)
    assert writes(sandbox) == {}
    assert again["counts"]["noop"] == len(again["rows"])
