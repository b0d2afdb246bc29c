"""What later simulators build on: ClusterApi, change callbacks, admission, counters, faults,
persistence across restarts, cluster registry."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from sandbox.k8s import ClusterApi, Denied, UserInfo
from tests.sandbox.k8s.kube_env import CLUSTER, KubeEnv


def test_cluster_api_and_change_callbacks(kube: KubeEnv) -> None:
    api = ClusterApi(kube.sandbox.rt, CLUSTER, manager="raysim")
    seen: list[tuple[str, str, str]] = []
    unsubscribe = api.on_change(
        lambda kind, obj: seen.append((kind, obj["kind"], obj["metadata"]["name"]))
    )

    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "namespace": "default"},
        "data": {"a": "1"},
    }
    api.apply(cm)
    api.apply({**cm, "data": {"a": "2"}})
    assert api.get("v1", "ConfigMap", "c", "default")["data"] == {"a": "2"}
    assert [o["metadata"]["name"] for o in api.list("v1", "ConfigMap", "default")] == [
        "c",
        "kube-root-ca.crt",
    ]
    client.CoreV1Api(kube.api()).patch_namespaced_config_map("c", "default", {"data": {"b": "3"}})
    assert api.delete("v1", "ConfigMap", "c", "default") and not api.delete(
        "v1", "ConfigMap", "c", "default"
    )
    assert seen == [
        ("ADDED", "ConfigMap", "c"),
        ("MODIFIED", "ConfigMap", "c"),
        ("MODIFIED", "ConfigMap", "c"),
        ("DELETED", "ConfigMap", "c"),
    ]
    unsubscribe()
    api.apply(cm)
    assert len(seen) == 4

    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "op", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    api.apply(deployment)
    patched = api.patch_status(
        "apps/v1", "Deployment", "op", {"readyReplicas": 0}, namespace="default"
    )
    assert patched["status"]["readyReplicas"] == 0 and patched["status"]["observedGeneration"] == 1


def test_admission_can_warn_and_deny(kube: KubeEnv) -> None:
    api = ClusterApi(kube.sandbox.rt, CLUSTER)
    calls: list[tuple[str, str, str]] = []

    def policy(operation: str, obj: dict, old: dict | None, user: UserInfo) -> list[str]:
        calls.append((operation, obj["metadata"]["name"], user.name))
        if obj.get("data", {}).get("privileged") == "true":
            raise Denied(
                'admission webhook "validation.gatekeeper.sh" denied the request: '
                "[no-privileged] not allowed"
            )
        return ["[audit-labels] missing label owner"] if obj["kind"] == "ConfigMap" else []

    api.admission(policy)
    core = client.CoreV1Api(kube.api())
    _, _, headers = core.create_namespaced_config_map_with_http_info(
        "default", {"metadata": {"name": "ok"}, "data": {"privileged": "false"}}
    )
    assert "missing label owner" in headers["Warning"]
    with pytest.raises(ApiException) as denied:
        core.patch_namespaced_config_map("ok", "default", {"data": {"privileged": "true"}})
    assert denied.value.status == 403
    assert "validation.gatekeeper.sh" in json.loads(denied.value.body)["message"]
    assert ("CREATE", "ok", "admin@sandbox") in calls and ("UPDATE", "ok", "admin@sandbox") in calls
    assert core.read_namespaced_config_map("ok", "default").data == {"privileged": "false"}


def _counters(kube: KubeEnv) -> dict:
    with urllib.request.urlopen(kube.sandbox.admin_url + "/counters", timeout=5) as answer:
        return json.load(answer)


def test_counters_tell_reads_from_writes(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    urllib.request.urlopen(
        urllib.request.Request(kube.sandbox.admin_url + "/counters/reset", method="POST")
    )
    core.read_namespaced_config_map("x", "default")
    core.list_namespaced_config_map("default")
    methods = _counters(kube)["methods"]
    assert (
        methods["k8s.get.configmaps"]["reads"] == 1 and methods["k8s.list.configmaps"]["reads"] == 1
    )
    assert _counters(kube)["apis"]["k8s"]["writes"] == 0
    core.patch_namespaced_config_map("x", "default", {"data": {"a": "1"}})
    assert _counters(kube)["methods"]["k8s.patch.configmaps"]["writes"] == 1


def test_faults_answer_kubernetes_statuses(kube: KubeEnv) -> None:
    kube.sandbox.rt.faults.configure(
        {"rules": [{"api": "k8s", "method": "k8s.create.configmaps", "code": 429}]}
    )
    core = client.CoreV1Api(kube.api())
    with pytest.raises(ApiException) as throttled:
        core.create_namespaced_config_map("default", {"metadata": {"name": "x"}})
    assert (
        throttled.value.status == 429
        and json.loads(throttled.value.body)["reason"] == "TooManyRequests"
    )
    assert core.list_namespaced_config_map("default").items is not None


def test_state_survives_a_restart_and_clusters_can_go(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}})
    rv = core.read_namespaced_config_map("kept", "default").metadata.resource_version
    url, ca = kube.gateway.url, kube.gateway.ca_pem
    kube.sandbox.stop()
    kube.sandbox.start()
    assert (kube.gateway.url, kube.gateway.ca_pem) == (url, ca)  # kubeconfigs stay valid
    core = client.CoreV1Api(kube.api())
    kept = core.read_namespaced_config_map("kept", "default")
    assert kept.metadata.resource_version == rv
    core.patch_namespaced_config_map("kept", "default", {"data": {"a": "1"}})
    assert int(core.read_namespaced_config_map("kept", "default").metadata.resource_version) > int(
        rv
    )

    kube.registry.delete(CLUSTER)
    assert not kube.registry.exists(CLUSTER)
    with pytest.raises(ApiException) as unreachable:
        core.list_namespace()
    assert unreachable.value.status == 503
    kube.registry.create(CLUSTER)
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == [
        "kube-root-ca.crt"
    ]


def test_the_ca_is_served_for_other_processes(kube: KubeEnv) -> None:
    with urllib.request.urlopen(kube.gateway.url + "/sandbox/ca.pem", timeout=5) as answer:
        assert answer.read().decode() == kube.gateway.ca_pem
    assert kube.gateway.ca_pem.startswith("-----BEGIN CERTIFICATE-----")


def test_unknown_membership_is_a_google_404(kube: KubeEnv) -> None:
    url = kube.gateway.url + "/v1/projects/123/locations/global/gkeMemberships/other/api"
    request = urllib.request.Request(url, headers={"Authorization": "Bearer sandbox-admin-x"})
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=5)
    assert missing.value.code == 404
    assert json.load(missing.value)["error"]["status"] == "NOT_FOUND"
