"""Issue 20: GKE's Ray operator add-on. Enabled through `addonsConfig.rayOperatorConfig`, the
cluster serves KubeRay's CRDs with structural schemas (unknown and mistyped fields refused as
kube-apiserver refuses them, `kubectl explain` answering from them), the add-on's operator runs
RayClusters, and their status carries KubeRay's conditions, `state: ready` included while the
head pod is not Ready."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.cloud import container_v1
from kubernetes import client

from sandbox.k8s import kubeconfig
from tests.sandbox import gke_setup as gke
from tests.sandbox.controllers.fleet_env import MEMBERSHIP, Fleet, eventually, start
from tests.sandbox.controllers.test_kuberay_rayclusters import raycluster

RAY = ("ray.io", "v1")
NAMESPACE = "team-r"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    """The platform cluster with the Ray operator add-on enabled by an in-place update."""
    running = start(tmp_path_factory.mktemp("ray-addon") / "state", "ml-platform-dev")
    try:
        container = gke.container(running.sandbox)
        name = f"projects/{running.project}/locations/{gke.REGION}/clusters/{MEMBERSHIP}"
        ray = container_v1.RayOperatorConfig(
            enabled=True,
            ray_cluster_logging_config=container_v1.RayClusterLoggingConfig(enabled=True),
            ray_cluster_monitoring_config=container_v1.RayClusterMonitoringConfig(enabled=True),
        )
        update = container_v1.ClusterUpdate(
            desired_addons_config=container_v1.AddonsConfig(ray_operator_config=ray)
        )
        op = container.update_cluster(name=name, update=update)
        gke.finish(container, running.project, gke.REGION, op)
        running.core.create_namespace({"metadata": {"name": NAMESPACE}})
        yield running
    finally:
        running.close()


def _crd(fleet: Fleet, plural: str) -> Any:
    api = client.ApiextensionsV1Api(fleet.api)
    return api.read_custom_resource_definition(f"{plural}.ray.io")


def _established(fleet: Fleet) -> bool:
    for plural in ("rayclusters", "rayjobs", "rayservices"):
        conditions = _crd(fleet, plural).status.conditions or []
        if not any(c.type == "Established" and c.status == "True" for c in conditions):
            return False
    return True


def _kubectl(fleet: Fleet, tmp_path: Path, *args: str, stdin: str = "") -> Any:
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed")
    gateway = fleet.gateway
    config = kubeconfig(
        gateway.https_url, fleet.number, MEMBERSHIP, "sandbox-admin", "admin", ca_pem=gateway.ca_pem
    )
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    env = {**os.environ, "KUBECONFIG": str(path), "HOME": str(tmp_path)}
    return subprocess.run(
        [binary, "--request-timeout=20s", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_addon_serves_structural_ray_crds(fleet: Fleet) -> None:
    container = gke.container(fleet.sandbox)
    found = container.get_cluster(
        name=f"projects/{fleet.project}/locations/{gke.REGION}/clusters/{MEMBERSHIP}"
    )
    ray = found.addons_config.ray_operator_config
    assert ray.enabled and ray.ray_cluster_logging_config.enabled
    assert ray.ray_cluster_monitoring_config.enabled
    eventually(lambda: _established(fleet), "Ray CRDs established")
    crd = _crd(fleet, "rayclusters")
    assert crd.metadata.labels["addonmanager.kubernetes.io/mode"] == "Reconcile"
    (version,) = crd.spec.versions
    assert (version.name, version.served, version.storage) == ("v1", True, True)
    assert version.subresources.status == {}
    columns = {c.name: c.json_path for c in version.additional_printer_columns}
    assert columns["status"] == ".status.state" and columns["gpus"] == ".status.desiredGPU"
    spec = version.schema.open_apiv3_schema.properties["spec"]
    assert spec.required == ["headGroupSpec"] and not spec.x_kubernetes_preserve_unknown_fields
    group = spec.properties["workerGroupSpecs"].items  # the client leaves `items` a dict
    assert set(group["required"]) == {"groupName", "maxReplicas", "minReplicas", "template"}
    assert group["properties"]["replicas"]["type"] == "integer"
    pod_spec = group["properties"]["template"]["properties"]["spec"]
    assert pod_spec["required"] == ["containers"]
    assert pod_spec["properties"]["containers"]["x-kubernetes-list-map-keys"] == ["name"]
    scaler = spec.properties["autoscalerOptions"].properties["upscalingMode"]
    assert scaler.enum == ["Default", "Aggressive", "Conservative"]


def _message(error: client.ApiException) -> str:
    return str(json.loads(error.body)["message"])


def test_unknown_and_mistyped_fields_are_refused(fleet: Fleet) -> None:
    eventually(lambda: _established(fleet), "Ray CRDs established")
    custom = fleet.custom
    body = raycluster("typo", 0)
    body["spec"]["workerGroupSpecs"][0]["replica"] = 1  # misspelled
    with pytest.raises(client.ApiException) as refused:
        custom.create_namespaced_custom_object(
            *RAY, NAMESPACE, "rayclusters", body, field_validation="Strict"
        )
    assert refused.value.status == 400
    assert _message(refused.value).endswith(
        'strict decoding error: unknown field "spec.workerGroupSpecs[0].replica"'
    )

    # a client that does not ask for Strict: the field is pruned (with a warning)
    stored = custom.create_namespaced_custom_object(*RAY, NAMESPACE, "rayclusters", body)
    group = stored["spec"]["workerGroupSpecs"][0]
    assert "replica" not in group
    assert group["numOfHosts"] == 1 and group["replicas"] == 0  # the CRD's defaults

    wrong = raycluster("wrong", 0)
    wrong["spec"]["workerGroupSpecs"][0]["replicas"] = "string"
    del wrong["spec"]["workerGroupSpecs"][0]["groupName"]
    wrong["spec"]["autoscalerOptions"] = {"upscalingMode": "Fast"}
    with pytest.raises(client.ApiException) as invalid:
        custom.create_namespaced_custom_object(*RAY, NAMESPACE, "rayclusters", wrong)
    assert invalid.value.status == 422
    message = _message(invalid.value)
    assert message.startswith('RayCluster.ray.io "wrong" is invalid: ')
    assert (
        'spec.workerGroupSpecs[0].replicas: Invalid value: "string": '
        'spec.workerGroupSpecs[0].replicas in body must be of type integer: "string"'
    ) in message
    assert "spec.workerGroupSpecs[0].groupName: Required value" in message
    assert "spec.autoscalerOptions.upscalingMode: Unsupported value" in message


def test_kubectl_refuses_a_misspelled_field_and_explains_the_schema(
    fleet: Fleet, tmp_path: Path
) -> None:
    eventually(lambda: _established(fleet), "Ray CRDs established")
    body = raycluster("kubectl-typo", 0)
    body["metadata"]["namespace"] = NAMESPACE
    body["spec"]["workerGroupSpecs"][0]["replica"] = 1
    manifest = yaml.safe_dump(body)
    applied = _kubectl(fleet, tmp_path, "apply", "-f", "-", stdin=manifest)
    assert applied.returncode != 0
    assert 'unknown field "spec.workerGroupSpecs[0].replica"' in applied.stderr
    server_side = _kubectl(fleet, tmp_path, "apply", "--server-side", "-f", "-", stdin=manifest)
    assert server_side.returncode != 0
    assert ".spec.workerGroupSpecs[0].replica: field not declared in schema" in server_side.stderr

    mistyped = copy.deepcopy(body)
    del mistyped["spec"]["workerGroupSpecs"][0]["replica"]
    mistyped["spec"]["workerGroupSpecs"][0]["replicas"] = "two"
    typed = _kubectl(fleet, tmp_path, "apply", "-f", "-", stdin=yaml.safe_dump(mistyped))
    assert typed.returncode != 0
    assert "spec.workerGroupSpecs[0].replicas in body must be of type integer" in typed.stderr

    explained = _kubectl(fleet, tmp_path, "explain", "raycluster.spec.workerGroupSpecs")
    assert explained.returncode == 0, explained.stderr
    assert "KIND:       RayCluster" in explained.stdout
    assert "groupName\t<string> -required-" in explained.stdout
    assert "replicas\t<integer>" in explained.stdout


def _status(fleet: Fleet, name: str) -> dict[str, Any]:
    found = fleet.custom.get_namespaced_custom_object(*RAY, NAMESPACE, "rayclusters", name)
    return dict(found.get("status") or {})


def _conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status.get("conditions") or []}


def test_the_addon_runs_rayclusters_with_kuberays_conditions(fleet: Fleet) -> None:
    eventually(lambda: _established(fleet), "Ray CRDs established")
    head = raycluster("ray", 0)
    fleet.custom.create_namespaced_custom_object(*RAY, NAMESPACE, "rayclusters", head)

    def ready() -> dict[str, Any] | None:
        status = _status(fleet, "ray")
        found = _conditions(status)
        both = all(
            found.get(k, {}).get("status") == "True"
            for k in ("HeadPodReady", "RayClusterProvisioned")
        )
        return status if status.get("state") == "ready" and both else None

    status = eventually(ready, "ready, head pod ready, provisioned")
    provisioned = _conditions(status)["RayClusterProvisioned"]
    assert provisioned["reason"] == "AllPodRunningAndReadyFirstTime"
    assert provisioned["message"] == "All Ray Pods are ready for the first time"
    assert _conditions(status)["HeadPodReady"]["reason"] == "HeadPodRunningAndReady"
    apps = client.AppsV1Api(fleet.api)
    deployments = apps.list_deployment_for_all_namespaces().items
    assert "kuberay-operator" not in {d.metadata.name for d in deployments}  # the add-on's

    # The head pod is replaced (a node went away) and the new one is slow to turn Ready:
    # KubeRay keeps `state: ready` while HeadPodReady is False.
    controllers = fleet.controllers
    controllers.settings = replace(controllers.settings, readiness_seconds=3600.0)
    controllers.run_once()  # a pass begun with the former settings is over
    try:
        old = status["head"]["podName"]
        fleet.core.delete_namespaced_pod(old, NAMESPACE)

        def window() -> dict[str, Any] | None:
            status = _status(fleet, "ray")
            condition = _conditions(status)["HeadPodReady"]
            replaced = status.get("head", {}).get("podName") not in (None, old)
            running = condition["reason"] == "ContainersNotReady"  # not only Pending any more
            return status if replaced and condition["status"] == "False" and running else None

        status = eventually(window, "the new head pod running but not Ready")
        assert status["state"] == "ready"
        condition = _conditions(status)["HeadPodReady"]
        assert condition["reason"] == "ContainersNotReady"
        assert condition["message"] == "containers with unready status: [ray-head]"
        assert _conditions(status)["RayClusterProvisioned"]["status"] == "True"
        fleet.sandbox.rt.advance(3600)
        eventually(ready, "the new head pod Ready")
    finally:
        controllers.settings = replace(controllers.settings, readiness_seconds=None)


def test_rayjobs_and_rayservices_follow_their_schemas(fleet: Fleet) -> None:
    eventually(lambda: _established(fleet), "Ray CRDs established")
    custom = fleet.custom
    cluster_spec = raycluster("unused", 0)["spec"]
    job = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "train"},
        "spec": {"entrypoint": "python train.py", "rayClusterSpec": cluster_spec},
    }
    stored = custom.create_namespaced_custom_object(*RAY, NAMESPACE, "rayjobs", job)
    assert stored["spec"]["submissionMode"] == "K8sJobMode"  # KubeRay's default
    assert stored["spec"]["backoffLimit"] == 0

    service = {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": "serve"},
        "spec": {"serveConfigV2": "applications: []", "excludeHeadPodFromServeSvc": "yes"},
    }
    with pytest.raises(client.ApiException) as refused:
        custom.create_namespaced_custom_object(*RAY, NAMESPACE, "rayservices", service)
    message = _message(refused.value)
    assert refused.value.status == 422
    assert "spec.rayClusterConfig: Required value" in message
    assert (
        'spec.excludeHeadPodFromServeSvc: Invalid value: "string": '
        'spec.excludeHeadPodFromServeSvc in body must be of type boolean: "string"'
    ) in message
