"""Reads shared across threads, against a sandbox cluster through the Connect Gateway with the
official Kubernetes client: the gates of many teams share one list per kind and cluster
(mlplat/k8s/shared_lists.py), and each thread's client starts from the cluster's shared
discovery (mlplat/k8s/connection.py)."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from mlplat.k8s import connection, shared_lists
from mlplat.k8s import objects as k8s
from mlplat.target import Target
from tests.sandbox.k8s.kube_env import MEMBERSHIP, PROJECT_NUMBER, KubeEnv, running

TEAMS = [f"team{i}" for i in range(6)]


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeEnv]:
    with running(tmp_path) as env:
        core = client.CoreV1Api(env.api())
        for team in TEAMS:
            core.create_namespace({"metadata": {"name": team}})
            core.create_namespaced_config_map(team, {"metadata": {"name": "gate"}})
        yield env


def _admin(kube: KubeEnv, path: str, method: str = "GET") -> Any:
    request = urllib.request.Request(kube.sandbox.admin_url + path, method=method)
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.load(answer)


def _calls(kube: KubeEnv) -> dict[str, int]:
    methods = _admin(kube, "/counters")["methods"]
    return {name: m["count"] for name, m in methods.items() if "configmaps" in name}


def test_waiters_together_share_one_list(kube: KubeEnv) -> None:
    api = kube.dynamic()
    _admin(kube, "/counters/reset", "POST")
    seen: dict[str, Any] = {}
    inside = threading.Barrier(len(TEAMS))

    def wait(team: str) -> None:
        with shared_lists.looking(api, "cluster-a", "v1", "ConfigMap") as look:
            inside.wait(timeout=10)  # every waiter began before the first look
            seen[team] = look(team, "gate")

    threads = [threading.Thread(target=wait, args=(team,)) for team in TEAMS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(seen) == TEAMS
    assert all(obj is not None and obj["metadata"]["namespace"] == t for t, obj in seen.items())
    assert _calls(kube) == {"k8s.list.configmaps": 1}  # six waiters, one call, no get


def test_a_look_is_never_older_than_the_previous_one(kube: KubeEnv) -> None:
    api = kube.dynamic()
    core = client.CoreV1Api(kube.api())
    with shared_lists.looking(api, "cluster-a", "v1", "ConfigMap") as look:
        first = look("team0", "gate")
        assert first is not None and "data" not in first
        core.patch_namespaced_config_map("gate", "team0", {"data": {"synced": "yes"}})
        again = look("team0", "gate")  # a new list: the change is seen
        assert again is not None and again["data"] == {"synced": "yes"}
        assert look("team0", "missing") is None
    _admin(kube, "/counters/reset", "POST")
    with shared_lists.looking(api, "cluster-a", "v1", "ConfigMap") as look:
        look("team1", "gate")  # a new waiter never reuses a list taken before it began
    assert _calls(kube) == {"k8s.list.configmaps": 1}


def test_clusters_and_kinds_do_not_share(kube: KubeEnv) -> None:
    api = kube.dynamic()
    _admin(kube, "/counters/reset", "POST")
    with (
        shared_lists.looking(api, "cluster-a", "v1", "ConfigMap") as a,
        shared_lists.looking(api, "cluster-b", "v1", "ConfigMap") as b,
        shared_lists.looking(api, "cluster-a", "v1", "Namespace") as namespaces,
    ):
        assert a("team2", "gate") is not None and b("team2", "gate") is not None
        assert namespaces("", "team2") is not None
    calls = _admin(kube, "/counters")["methods"]
    assert calls["k8s.list.configmaps"]["count"] == 2
    assert calls["k8s.list.namespaces"]["count"] == 1


def test_a_new_thread_starts_from_what_earlier_threads_discovered(kube: KubeEnv) -> None:
    """Each thread has its own client (discovery is not thread-safe); what any thread's client
    discovered, a CRD installed since included, the clients of later threads do not discover
    again (mlplat/k8s/connection.py)."""
    gateway = json.loads(kube.sandbox.endpoints_path.read_text())["components"]["connectgateway"]
    target = Target(name="sandbox", endpoints=(("connectgateway", gateway),))

    def lookup(kinds: list[tuple[str, str]]) -> None:
        api = connection.dynamic(target, PROJECT_NUMBER, MEMBERSHIP)
        try:
            for api_version, kind in kinds:
                k8s.list_(api, api_version, kind)
        finally:
            connection.release_thread_clients()

    def discovery_calls(kinds: list[tuple[str, str]]) -> int:
        _admin(kube, "/counters/reset", "POST")
        thread = threading.Thread(target=lookup, args=(kinds,))
        thread.start()
        thread.join(timeout=30)
        methods = _admin(kube, "/counters")["methods"]
        return sum(m["count"] for n, m in methods.items() if "discovery" in n or "version" in n)

    configmaps, widgets = ("v1", "ConfigMap"), ("example.com/v1", "Widget")
    assert discovery_calls([configmaps]) > 0  # the cluster's first client
    assert discovery_calls([configmaps]) == 0
    kube.dynamic().resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    ).create(body=WIDGET_CRD)
    assert discovery_calls([widgets]) > 0  # installed since: this client discovers again
    assert discovery_calls([widgets]) == 0  # and shares it with the threads after it
    assert discovery_calls([configmaps, widgets]) == 0  # what the first one loaded is kept


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}
