"""CustomResourceDefinitions and custom objects; namespace lifecycle; a fresh cluster's contents."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.sandbox.k8s.kube_env import KubeEnv

GROUP, VERSION, PLURAL = "ray.io", "v1", "rayclusters"


def _crd() -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "rayVersion": {"type": "string"},
                    "headGroupSpec": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    },
                },
            },
            "status": {"type": "object", "properties": {"state": {"type": "string"}}},
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "plural": PLURAL,
                "singular": "raycluster",
                "kind": "RayCluster",
                "shortNames": ["rc"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "subresources": {"status": {}},
                }
            ],
        },
    }


def _ray(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "RayCluster",
        "metadata": {"name": name},
        "spec": spec,
    }


def test_crd_lifecycle_and_custom_objects(kube: KubeEnv) -> None:
    api = kube.api()
    extensions = client.ApiextensionsV1Api(api)
    created = extensions.create_custom_resource_definition(_crd())
    conditions = {c.type: c.status for c in created.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert created.status.accepted_names.kind == "RayCluster"

    resources = client.CustomObjectsApi(api).get_api_resources(GROUP, VERSION)
    assert {r.name for r in resources.resources} == {"rayclusters", "rayclusters/status"}

    custom = client.CustomObjectsApi(api)
    body = _ray("ray", rayVersion="2.9.0", headGroupSpec={"anything": {"goes": [1]}}, unknown="x")
    obj = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, body)
    assert obj["spec"] == {"rayVersion": "2.9.0", "headGroupSpec": {"anything": {"goes": [1]}}}
    assert obj["metadata"]["generation"] == 1

    with pytest.raises(ApiException) as strict:
        custom.create_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, _ray("strict", bogus=1), field_validation="Strict"
        )
    message = json.loads(strict.value.body)["message"]
    assert strict.value.status == 400 and 'unknown field "spec.bogus"' in message

    status = custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "ray",
        {"status": {"state": "ready"}, "spec": {"rayVersion": "9"}},
    )
    assert status["status"] == {"state": "ready"} and status["spec"]["rayVersion"] == "2.9.0"
    assert status["metadata"]["generation"] == 1

    main = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "ray",
        {"spec": {"rayVersion": "2.10.0"}, "status": {"state": "x"}},
    )
    assert main["status"] == {"state": "ready"} and main["metadata"]["generation"] == 2
    listed = custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert [item["metadata"]["name"] for item in listed["items"]] == ["ray"]

    extensions.delete_custom_resource_definition(f"{PLURAL}.{GROUP}")
    with pytest.raises(ApiException) as gone:
        custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)
    assert gone.value.status == 404
    groups = {g.name for g in client.ApisApi(api).get_api_versions().groups}
    assert GROUP not in groups
    extensions.create_custom_resource_definition(_crd())
    assert custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"] == []


def test_crd_validation(kube: KubeEnv) -> None:
    bad = _crd()
    bad["metadata"]["name"] = "wrong.name"
    with pytest.raises(ApiException) as invalid:
        client.ApiextensionsV1Api(kube.api()).create_custom_resource_definition(bad)
    assert invalid.value.status == 422


def test_fresh_cluster_has_system_namespaces_and_default_roles(kube: KubeEnv) -> None:
    api = kube.api()
    namespaces = {n.metadata.name: n for n in client.CoreV1Api(api).list_namespace().items}
    assert set(namespaces) == {"default", "kube-system", "kube-public", "kube-node-lease"}
    assert namespaces["default"].status.phase == "Active"
    assert namespaces["default"].metadata.labels == {"kubernetes.io/metadata.name": "default"}
    roles = {r.metadata.name for r in client.RbacAuthorizationV1Api(api).list_cluster_role().items}
    assert {"cluster-admin", "admin", "edit", "view"} <= roles


def test_namespace_deletion_terminates_then_removes_contents(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    core.create_namespace({"metadata": {"name": "team-a"}})
    assert {s.metadata.name for s in core.list_namespaced_service_account("team-a").items} == {
        "default"
    }
    assert core.read_namespaced_config_map("kube-root-ca.crt", "team-a").data["ca.crt"]
    core.create_namespaced_config_map("team-a", {"metadata": {"name": "a"}})
    core.create_namespaced_config_map(
        "team-a", {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    )

    deleted = core.delete_namespace("team-a")
    assert deleted["status"]["phase"] == "Terminating"
    assert deleted["spec"]["finalizers"] == ["kubernetes"]
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map("team-a", {"metadata": {"name": "late"}})
    assert refused.value.status == 403
    assert "because it is being terminated" in json.loads(refused.value.body)["message"]

    _wait(
        lambda: (
            [c.metadata.name for c in core.list_namespaced_config_map("team-a").items] == ["held"]
        )
    )
    assert core.read_namespace("team-a").status.phase == "Terminating"
    core.patch_namespaced_config_map("held", "team-a", {"metadata": {"finalizers": None}})
    _wait(lambda: "team-a" not in {n.metadata.name for n in core.list_namespace().items})
    assert core.list_namespaced_config_map("team-a").items == []


def _wait(condition: Any, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
