"""Server-side apply through the dynamic client, and watches through `watch.Watch`."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic.exceptions import ConflictError

from tests.sandbox.k8s.kube_env import KubeEnv


def _config(data: dict[str, str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "settings", "namespace": "default"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _managers(obj: Any) -> dict[str, set[str]]:
    return {
        entry["manager"]: set(entry["fieldsV1"].get("f:data", {}))
        for entry in obj.to_dict()["metadata"]["managedFields"]
    }


def test_server_side_apply_create_update_conflict_force(kube: KubeEnv) -> None:
    dyn = kube.dynamic()
    maps = dyn.resources.get(api_version="v1", kind="ConfigMap")

    created = dyn.server_side_apply(maps, _config({"a": "1", "b": "1"}), field_manager="alpha")
    assert created.data.a == "1" and _managers(created) == {"alpha": {"f:a", "f:b"}}

    # Same manager, b dropped from its configuration: b is removed from the object.
    updated = dyn.server_side_apply(maps, _config({"a": "2"}), field_manager="alpha")
    assert updated.data.to_dict() == {"a": "2"}

    # Another manager co-owns a field at the same value without conflict...
    shared = dyn.server_side_apply(maps, _config({"a": "2", "c": "3"}), field_manager="beta")
    assert _managers(shared) == {"alpha": {"f:a"}, "beta": {"f:a", "f:c"}}

    # ...but applying a different value to a field alpha owns is a 409 naming both.
    with pytest.raises(ConflictError) as conflict:
        dyn.server_side_apply(maps, _config({"a": "9"}), field_manager="beta")
    status = json.loads(conflict.value.body)
    assert status["reason"] == "Conflict"
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "alpha": .data.a'
    assert status["details"]["causes"][0]["field"] == ".data.a"

    forced = dyn.server_side_apply(
        maps, _config({"a": "9"}), field_manager="beta", force_conflicts=True
    )
    assert forced.data.a == "9" and forced.data.c is None  # beta stopped applying c
    assert _managers(forced) == {"beta": {"f:a"}}


def test_apply_and_updates_share_fields(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "settings"}, "data": {"a": "1"}}, field_manager="creator"
    )
    dyn = kube.dynamic()
    maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    with pytest.raises(ConflictError):
        dyn.server_side_apply(maps, _config({"a": "2"}), field_manager="applier")
    applied = dyn.server_side_apply(maps, _config({"a": "1", "b": "2"}), field_manager="applier")
    managers = {
        e["manager"]: e["operation"] for e in applied.to_dict()["metadata"]["managedFields"]
    }
    assert managers == {"creator": "Update", "applier": "Apply"}
    # An update moves the field it changes to its manager, silently.
    core.patch_namespaced_config_map(
        "settings", "default", {"data": {"b": "3"}}, field_manager="editor"
    )
    after = core.read_namespaced_config_map("settings", "default")
    owners = {e.manager: e.fields_v1.get("f:data", {}) for e in after.metadata.managed_fields}
    assert "f:b" in owners["editor"] and "f:b" not in owners["applier"]


def test_apply_requires_a_field_manager_and_honours_dry_run(kube: KubeEnv) -> None:
    dyn = kube.dynamic()
    maps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    dry = dyn.server_side_apply(maps, _config({"a": "1"}), field_manager="m", dry_run="All")
    assert dry.data.a == "1"
    with pytest.raises(ApiException) as missing:
        client.CoreV1Api(kube.api()).read_namespaced_config_map("settings", "default")
    assert missing.value.status == 404


def _collect(
    kube: KubeEnv, events: list[tuple[str, str, str]], ready: threading.Event, **kwargs: Any
) -> None:
    core = client.CoreV1Api(kube.api())
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, "default", timeout_seconds=5, **kwargs):
        obj = event["object"]
        events.append((event["type"], obj.metadata.name, (obj.data or {}).get("v", "")))
        ready.set()
        if event["type"] == "DELETED":
            w.stop()


def test_watch_stream_sees_added_modified_deleted(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    start = core.list_namespaced_config_map("default").metadata.resource_version
    events: list[tuple[str, str, str]] = []
    ready = threading.Event()
    watcher = threading.Thread(
        target=_collect,
        args=(kube, events, ready),
        kwargs={"resource_version": start, "label_selector": "watched=yes"},
    )
    watcher.start()
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "ignored"}, "data": {"v": "0"}}
    )
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "w", "labels": {"watched": "yes"}}, "data": {"v": "1"}}
    )
    core.patch_namespaced_config_map("w", "default", {"data": {"v": "2"}})
    core.delete_namespaced_config_map("w", "default")
    watcher.join(timeout=10)
    assert not watcher.is_alive()
    assert events == [("ADDED", "w", "1"), ("MODIFIED", "w", "2"), ("DELETED", "w", "2")]


def test_watch_without_resource_version_starts_with_existing_objects(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    w = watch.Watch()
    seen = [
        (e["type"], e["object"].metadata.name)
        for e in w.stream(core.list_namespace, timeout_seconds=1)
    ]
    assert ("ADDED", "kube-system") in seen and all(kind == "ADDED" for kind, _ in seen)


def test_watch_from_a_forgotten_version_is_expired(kube: KubeEnv) -> None:
    core = client.CoreV1Api(kube.api())
    kube.sandbox.stop()
    kube.sandbox.start()  # a restart forgets the event log, not the objects
    core = client.CoreV1Api(kube.api())
    with pytest.raises(ApiException) as expired:
        list(watch.Watch().stream(core.list_namespace, resource_version="1", timeout_seconds=1))
    assert expired.value.status == 410
