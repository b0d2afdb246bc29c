"""A team commits a RayCluster with a misspelled field to its own folder: the cluster refuses it
(the Ray CRDs are structural), the team's RepoSync reports the refusal as Config Sync does
(KNV2009), and `mlplat drift` reports it as a sync error: mlplat does not own the team's file,
a human must fix it."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
import yaml
from kubernetes import client

from sandbox.cloud import Sandbox
from tests.flows.conftest import drift_check
from tests.flows.platform_clients import kube, repo

TEAM_FILE = "manifests/apps/vision/experiment.yaml"
REFUSED = (
    "KNV2009: failed to apply RayCluster.ray.io, vision/experiment: failed to create typed patch "
    "object (ray.io/v1, Kind=RayCluster): .spec.workerGroupSpecs[0].replica: field not "
    "declared in schema"
)


def _experiment(api: client.ApiClient) -> dict[str, Any]:
    """The team's own RayCluster: mlplat's, renamed, with `replicas` misspelled."""
    custom = client.CustomObjectsApi(api)
    live = custom.get_namespaced_custom_object(
        "ray.io", "v1", "vision", "rayclusters", "vision-ray"
    )
    spec = copy.deepcopy(live["spec"])
    spec["workerGroupSpecs"][0]["replica"] = spec["workerGroupSpecs"][0].pop("replicas")
    labels = {
        k: v
        for k, v in live["metadata"].get("labels", {}).items()
        if "/" not in k or k.startswith("mlplat")
    }
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "experiment", "namespace": "vision", "labels": labels},
        "spec": spec,
    }


def _sync_errors(api: client.ApiClient) -> list[dict[str, Any]]:
    sync = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "configsync.gke.io", "v1beta1", "vision", "reposyncs", "repo-sync"
    )
    return list(((sync.get("status") or {}).get("sync") or {}).get("errors") or [])


@pytest.mark.provisioned
def test_a_misspelled_field_is_a_sync_error_for_a_human(sandbox: Sandbox) -> None:
    api = kube(sandbox, "dev")
    body = yaml.safe_dump(_experiment(api))
    repo(sandbox).create_file(TEAM_FILE, "vision: an experiment", body, branch="dev")

    deadline = time.monotonic() + 30
    while not (errors := _sync_errors(api)):
        assert time.monotonic() < deadline, "the RepoSync reports no error"
        time.sleep(0.1)
    assert [e["code"] for e in errors] == ["2009"]
    assert errors[0]["errorMessage"].startswith(REFUSED)
    custom = client.CustomObjectsApi(api)
    names = custom.list_namespaced_custom_object("ray.io", "v1", "vision", "rayclusters")
    assert [i["metadata"]["name"] for i in names["items"]] == ["vision-ray"]

    state, findings = drift_check(sandbox)
    assert state == "Drifted"
    errors_found = [f for f in findings if f["drift"] == "sync error"]
    assert [f["resource"] for f in errors_found] == ["k8s/RepoSync vision/repo-sync"]
    assert REFUSED in errors_found[0]["actual"]
