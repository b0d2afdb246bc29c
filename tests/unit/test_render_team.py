"""A team's rendered space: real members, least privilege, quota, isolation, RepoSync, Ray."""

from __future__ import annotations

from typing import Any

import pytest

from mlplat.render import notebook, raycluster, team
from mlplat.specs import PlatformSpec, load_spec
from tests.unit.spec_files import REFERENCE

URL = "https://github.com/ml-platform-org/mlp-configsync.git"


@pytest.fixture(scope="module")
def spec() -> PlatformSpec:
    return load_spec(REFERENCE)


def _by_kind(manifests: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for manifest in manifests:
        found.setdefault(manifest["kind"], []).append(manifest)
    return found


def test_space_binds_real_members_with_least_privilege(spec: PlatformSpec) -> None:
    vision = spec.teams["vision"]
    manifests = team.space(
        spec.platform, spec.environments["dev"], vision, project="mlp-dev-a1b2", repo_url=URL
    )
    kinds = _by_kind(manifests)
    assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
    assert all(
        m["metadata"].get("namespace") == "vision" for m in manifests if m["kind"] != "Namespace"
    )
    bindings = {b["metadata"]["name"]: b for b in kinds["RoleBinding"]}
    assert bindings["vision-admins"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"}
    ]
    developer_subjects = {s["name"] for s in bindings["vision-developers"]["subjects"]}
    assert developer_subjects == {"bob@example.com", "vision-devs@example.com"}
    for binding in kinds["RoleBinding"]:
        assert binding["roleRef"]["kind"] == "Role", "no ClusterRole, least of all cluster-admin"
    roles = {r["metadata"]["name"]: r for r in kinds["Role"]}
    viewer_verbs = {v for rule in roles["vision-viewer"]["rules"] for v in rule["verbs"]}
    assert viewer_verbs == {"get", "list", "watch"}
    developer_resources = {
        r for rule in roles["vision-developer"]["rules"] for r in rule["resources"]
    }
    assert "secrets" not in developer_resources


def test_quota_reposync_and_reconciler(spec: PlatformSpec) -> None:
    nlp = spec.teams["nlp"]
    kinds = _by_kind(
        team.space(
            spec.platform,
            spec.environments["staging"],
            nlp,
            project="mlp-staging-a1b2",
            repo_url=URL,
        )
    )
    (quota,) = kinds["ResourceQuota"]
    assert quota["spec"]["hard"] == {
        "requests.cpu": "64",
        "requests.memory": "256Gi",
        "requests.nvidia.com/gpu": "4",
        "pods": "100",
    }
    (repo_sync,) = kinds["RepoSync"]
    assert repo_sync["metadata"]["namespace"] == "nlp-team"
    assert repo_sync["spec"]["git"] == {
        "repo": URL,
        "branch": "staging",
        "dir": "manifests/apps/nlp",
        "auth": "token",
        "secretRef": {"name": "git-creds"},
    }
    reconciler = next(
        b for b in kinds["RoleBinding"] if b["metadata"]["name"] == "repo-sync-reconciler"
    )
    assert reconciler["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "ns-reconciler-nlp-team",
            "namespace": "config-management-system",
        }
    ]
    (ksa,) = kinds["ServiceAccount"]
    assert ksa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == (
        "mlp-staging-nlp@mlp-staging-a1b2.iam.gserviceaccount.com"
    )


def test_raycluster_lands_on_the_matching_gpu_pool(spec: PlatformSpec) -> None:
    rc = raycluster.raycluster(spec.platform, spec.environments["dev"], spec.teams["vision"])
    assert rc["spec"]["rayVersion"] == "2.47.1"
    (workers,) = rc["spec"]["workerGroupSpecs"]
    assert (workers["minReplicas"], workers["replicas"], workers["maxReplicas"]) == (0, 1, 4)
    pod = workers["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-nodepool": "gpu-l4-spot"}
    assert {"key": "spot", "operator": "Equal", "value": "true", "effect": "NoSchedule"} in (
        pod["tolerations"]
    )
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert pod["containers"][0]["image"].startswith(spec.platform.policies.allowed_registries[0])
    assert rc["spec"]["headGroupSpec"]["template"]["metadata"]["labels"]["mlplat.dev/team"] == (
        "vision"
    )
    assert raycluster.endpoint(spec.teams["vision"]) == (
        "ray://vision-ray-head-svc.vision.svc:10001"
    )


def test_cpu_workers_get_no_gpu_placement(spec: PlatformSpec) -> None:
    rc = raycluster.raycluster(spec.platform, spec.environments["dev"], spec.teams["nlp"])
    cpu = next(w for w in rc["spec"]["workerGroupSpecs"] if w["groupName"] == "cpu")
    assert "nodeSelector" not in cpu["template"]["spec"]


def test_notebook_only_when_enabled(spec: PlatformSpec) -> None:
    assert notebook.notebook(spec.teams["nlp"]) == []
    deployment, service = notebook.notebook(spec.teams["vision"])
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "vision-workloads"
    assert service["spec"]["ports"][0]["port"] == 8888
