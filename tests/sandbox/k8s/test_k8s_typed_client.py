"""The typed Python client: CRUD, resourceVersion conflicts, selectors, patches, dry runs."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.sandbox.k8s.kube_env import KubeEnv


def _status(exc: ApiException) -> dict:
    return json.loads(exc.body)


def _config_map(name: str, labels: dict[str, str] | None = None, **data: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels), data=data)


def test_crud_and_resource_version_conflict(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", _config_map("app", a="1"))
    assert created.metadata.uid and created.metadata.creation_timestamp
    first_rv = created.metadata.resource_version

    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map("default", _config_map("app"))
    assert exists.value.status == 409 and _status(exists.value)["reason"] == "AlreadyExists"
    assert _status(exists.value)["message"] == 'configmaps "app" already exists'

    created.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("app", "default", created)
    assert int(updated.metadata.resource_version) > int(first_rv)

    stale = _config_map("app", a="3")
    stale.metadata.resource_version = first_rv
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("app", "default", stale)
    assert conflict.value.status == 409 and _status(conflict.value)["reason"] == "Conflict"
    assert "the object has been modified" in _status(conflict.value)["message"]

    assert core.read_namespaced_config_map("app", "default").data == {"a": "2"}
    gone = core.delete_namespaced_config_map("app", "default")
    assert gone["status"] == "Success" and gone["details"]["name"] == "app"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("app", "default")
    assert missing.value.status == 404
    assert _status(missing.value)["message"] == 'configmaps "app" not found'


def test_no_op_update_keeps_the_resource_version(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", _config_map("same", a="1"))
    again = core.replace_namespaced_config_map("same", "default", created)
    assert again.metadata.resource_version == created.metadata.resource_version


def test_label_and_field_selectors(core: client.CoreV1Api) -> None:
    for name, labels in [
        ("a", {"app": "web", "tier": "front"}),
        ("b", {"app": "web", "tier": "back"}),
        ("c", {"app": "db"}),
        ("d", None),
    ]:
        core.create_namespaced_config_map("default", _config_map(name, labels))

    def names(**kwargs: str) -> list[str]:
        items = core.list_namespaced_config_map("default", **kwargs).items
        return sorted(i.metadata.name for i in items if i.metadata.name != "kube-root-ca.crt")

    assert names(label_selector="app=web") == ["a", "b"]
    assert names(label_selector="app==web,tier!=front") == ["b"]
    assert names(label_selector="app in (db, cache)") == ["c"]
    assert names(label_selector="app notin (web)") == ["c", "d"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!app") == ["d"]
    assert names(field_selector="metadata.name=c") == ["c"]
    assert names(field_selector="metadata.name!=c,metadata.namespace=default") == ["a", "b", "d"]
    listed = core.list_config_map_for_all_namespaces(label_selector="app=web")
    assert int(listed.metadata.resource_version) >= 1 and len(listed.items) == 2
    with pytest.raises(ApiException) as bad:
        core.list_namespaced_config_map("default", field_selector="data.x=1")
    assert bad.value.status == 400


def test_merge_strategic_and_json_patches(kube: KubeEnv) -> None:
    apps = client.AppsV1Api(kube.api())
    container = {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}]}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container, {"name": "sidecar", "image": "side:1"}]},
            },
        },
    }
    created = apps.create_namespaced_deployment("default", body)
    assert created.metadata.generation == 1

    strategic = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:2"}]}}}
    }
    patched = apps.patch_namespaced_deployment(
        "web", "default", strategic, _content_type="application/strategic-merge-patch+json"
    )
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert containers["app"].image == "app:2" and containers["app"].env[0].name == "A"
    assert containers["sidecar"].image == "side:1"
    assert patched.metadata.generation == 2

    merged = apps.patch_namespaced_deployment(
        "web",
        "default",
        {"metadata": {"labels": {"team": "a", "app": None}}, "spec": {"replicas": 3}},
        _content_type="application/merge-patch+json",
    )
    assert merged.metadata.labels == {"team": "a"} and merged.spec.replicas == 3

    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 3},
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/metadata/annotations", "value": {"note": "x"}},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
    ]
    jsoned = apps.patch_namespaced_deployment("web", "default", ops)
    assert jsoned.spec.replicas == 2 and jsoned.metadata.annotations == {"note": "x"}
    assert [c.name for c in jsoned.spec.template.spec.containers] == ["app"]

    with pytest.raises(ApiException) as failed:
        apps.patch_namespaced_deployment(
            "web", "default", [{"op": "test", "path": "/spec/replicas", "value": 9}]
        )
    assert failed.value.status == 422


def test_deployment_status_is_a_subresource(kube: KubeEnv) -> None:
    apps = client.AppsV1Api(kube.api())
    body = {
        "metadata": {"name": "api"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
        "status": {"replicas": 99},
    }
    created = apps.create_namespaced_deployment("default", body)
    assert created.status is None or created.status.replicas is None  # status ignored on create
    ready = apps.read_namespaced_deployment("api", "default")
    # the ReplicaSet's pods exist but nothing runs them here (no controllers component)
    assert (ready.status.replicas, ready.status.unavailable_replicas) == (2, 2)
    assert ready.status.observed_generation == 1
    assert {c.type for c in ready.status.conditions} == {"Available", "Progressing"}

    ready.status.ready_replicas = 1
    ready.spec.replicas = 5
    after_status = apps.replace_namespaced_deployment_status("api", "default", ready)
    assert after_status.spec.replicas == 2 and after_status.status.ready_replicas == 1

    main = apps.patch_namespaced_deployment("api", "default", {"status": {"readyReplicas": 0}})
    assert main.status.ready_replicas == 1  # main-resource writes ignore status


def test_dry_run_stores_nothing(core: client.CoreV1Api) -> None:
    dry = core.create_namespaced_config_map("default", _config_map("dry", a="1"), dry_run="All")
    assert dry.metadata.name == "dry"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("dry", "default")
    assert missing.value.status == 404

    core.create_namespaced_config_map("default", _config_map("real", a="1"))
    core.patch_namespaced_config_map("real", "default", {"data": {"a": "2"}}, dry_run="All")
    core.delete_namespaced_config_map("real", "default", dry_run="All")
    assert core.read_namespaced_config_map("real", "default").data == {"a": "1"}


def test_namespace_must_exist_and_names_must_be_valid(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as missing:
        core.create_namespaced_config_map("nowhere", _config_map("x"))
    assert (
        missing.value.status == 404
        and _status(missing.value)["message"] == 'namespaces "nowhere" not found'
    )
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map("default", _config_map("Not_Valid"))
    assert invalid.value.status == 422 and _status(invalid.value)["reason"] == "Invalid"
    with pytest.raises(ApiException) as label:
        core.create_namespaced_config_map("default", _config_map("ok", {"team": "has space"}))
    assert label.value.status == 422
    assert 'metadata.labels: Invalid value: "has space"' in _status(label.value)["message"]


def test_secrets_are_base64_and_string_data_is_folded(core: client.CoreV1Api) -> None:
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name="s"), string_data={"token": "t"})
    created = core.create_namespaced_secret("default", secret)
    assert created.data == {"token": "dA=="} and created.type == "Opaque"
    bad = client.V1Secret(metadata=client.V1ObjectMeta(name="bad"), data={"k": "not base64!"})
    with pytest.raises(ApiException) as rejected:
        core.create_namespaced_secret("default", bad)
    assert rejected.value.status == 400


def test_role_binding_role_ref_is_immutable(kube: KubeEnv) -> None:
    rbac = client.RbacAuthorizationV1Api(kube.api())
    binding = {
        "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "u"}],
    }
    rbac.create_namespaced_role_binding("default", binding)
    binding["roleRef"]["name"] = "edit"
    with pytest.raises(ApiException) as invalid:
        rbac.replace_namespaced_role_binding("b", "default", binding)
    assert (
        invalid.value.status == 422 and "cannot change roleRef" in _status(invalid.value)["message"]
    )


def test_finalizers_hold_deletion(core: client.CoreV1Api) -> None:
    cm = _config_map("held")
    cm.metadata.finalizers = ["example.com/hold"]
    core.create_namespaced_config_map("default", cm)
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map(
        "held",
        "default",
        {"metadata": {"finalizers": None}},
        _content_type="application/merge-patch+json",
    )
    with pytest.raises(ApiException) as gone:
        core.read_namespaced_config_map("held", "default")
    assert gone.value.status == 404


def test_https_with_the_gateway_ca(kube: KubeEnv) -> None:
    secure = client.CoreV1Api(kube.api(tls=True))
    assert {n.metadata.name for n in secure.list_namespace().items} >= {"default", "kube-system"}
