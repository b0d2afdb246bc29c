"""deployments/: the Kubernetes work pool's base job template is consistent, and the runner
manifests apply to a cluster and give the worker exactly the Job rights it needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, utils

from tests.sandbox.k8s.kube_env import KubeEnv

DEPLOYMENTS = Path(__file__).resolve().parents[3] / "deployments"
PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {name for v in value.values() for name in _placeholders(v)}
    if isinstance(value, list):
        return {name for v in value for name in _placeholders(v)}
    return set(PLACEHOLDER.findall(value)) if isinstance(value, str) else set()


def test_job_template_uses_only_declared_variables_and_no_secret_values() -> None:
    template = json.loads((DEPLOYMENTS / "kubernetes-base-job-template.json").read_text())
    declared = set(template["variables"]["properties"])
    used = _placeholders(template["job_configuration"])
    assert used <= declared, f"undeclared: {used - declared}"
    assert declared - used == set(), f"declared but unused: {declared - used}"
    manifest = template["job_configuration"]["job_manifest"]
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert manifest["kind"] == "Job"
    assert container["envFrom"] == [{"secretRef": {"name": "mlplat-github"}}]
    assert "ghp_" not in json.dumps(template)


def test_runner_manifests_apply_and_scope_the_worker(kube: KubeEnv) -> None:
    api = kube.api()
    documents = list(yaml.safe_load_all((DEPLOYMENTS / "kubernetes-runner.yaml").read_text()))
    utils.create_from_yaml(api, yaml_objects=documents)
    accounts = client.CoreV1Api(api).list_namespaced_service_account("mlplat")
    assert {"mlplat-runner", "prefect-worker"} <= {a.metadata.name for a in accounts.items}

    def allowed(verb: str, resource: str, namespace: str) -> bool:
        review = client.AuthorizationV1Api(api).create_subject_access_review(
            {
                "spec": {
                    "user": "system:serviceaccount:mlplat:prefect-worker",
                    "resourceAttributes": {
                        "verb": verb,
                        "group": "batch" if resource == "jobs" else "",
                        "resource": resource,
                        "namespace": namespace,
                    },
                }
            }
        )
        return bool(review.status.allowed)

    assert allowed("create", "jobs", "mlplat")
    assert allowed("watch", "pods", "mlplat")
    assert not allowed("create", "jobs", "default")
    assert not allowed("get", "secrets", "mlplat")
