"""Hand edits of objects Config Sync manages on a provisioned dev, for the drift tests."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from sandbox.cloud import Sandbox
from tests.flows.platform_clients import kube, kubectl

Findings = set[tuple[str, str, str]]


def edit_role_binding(sandbox: Sandbox, tmp_path: Path) -> Findings:
    """Add a subject to vision's developers RoleBinding by hand; the finding it makes."""
    rbac = client.RbacAuthorizationV1Api(kube(sandbox, "dev"))
    binding = rbac.read_namespaced_role_binding("vision-developers", "vision")
    binding.subjects.append(
        client.RbacV1Subject(api_group="rbac.authorization.k8s.io", kind="User", name="mallory")
    )
    rbac.replace_namespaced_role_binding("vision-developers", "vision", binding)
    return {("k8s/RoleBinding vision/vision-developers", "changed", "subjects")}


def refused_with_drift_prevention(sandbox: Sandbox, tmp_path: Path) -> None:
    """With preventDrift (the reference spec), kubectl's namespace delete and a RoleBinding
    edit are refused by Config Sync's webhook (for a test that provisioned dev)."""
    deleted = kubectl(sandbox, "dev", tmp_path, "delete", "namespace", "nlp-team", "--wait=true")
    assert deleted.returncode == 1
    assert deleted.stderr.strip() == (
        'error: You must be logged in to the server (admission webhook "v1.admission-webhook.'
        'configsync.gke.io" denied the request: requester is not authorized to delete managed '
        "resources)"
    )
    try:
        edit_role_binding(sandbox, tmp_path)
        raise AssertionError("a RoleBinding Config Sync manages was edited by hand")
    except client.ApiException as refused:
        assert refused.status == 403
        assert "fields managed by Config Sync can not be modified: .subjects" in refused.body
