"""Hydrated manifests: no KubeRay (GKE's add-on), real constraints, stable YAML."""

from __future__ import annotations

import yaml

from mlplat.render import repository
from mlplat.specs import load_spec
from tests.unit.spec_files import REFERENCE

URL = "https://github.com/o/r.git"


def _docs(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [d for d in yaml.safe_load_all(text) if d]


def test_environment_files_are_hydrated_and_stable() -> None:
    spec = load_spec(REFERENCE)
    files = repository.environment_files(spec, spec.environments["prod"], project="p", repo_url=URL)
    assert files == repository.environment_files(
        spec, spec.environments["prod"], project="p", repo_url=URL
    )
    assert set(files) == {
        "README.md",
        "manifests/clusters/policies/constraints.yaml",
        "manifests/clusters/teams/vision.yaml",
        "manifests/apps/vision/README.md",
        "manifests/apps/vision/raycluster.yaml",
        "manifests/apps/vision/notebook.yaml",
    }, "nlp is not in prod; KubeRay comes from GKE's add-on, not from Git"


def test_ray_crds_config_sync_still_manages_are_let_go_of() -> None:
    spec = load_spec(REFERENCE)
    release = ["rayjobs.ray.io", "rayclusters.ray.io"]
    files = repository.environment_files(
        spec, spec.environments["prod"], project="p", repo_url=URL, release_crds=release
    )
    crds = _docs(files["manifests/clusters/kuberay/released-crds.yaml"])
    assert [d["metadata"]["name"] for d in crds] == sorted(release)
    assert all(
        d["metadata"]["annotations"] == {"configmanagement.gke.io/managed": "disabled"}
        for d in crds
    )
    assert {d["spec"]["names"]["kind"] for d in crds} == {"RayCluster", "RayJob"}


def test_constraints_enforce_the_platform_policies() -> None:
    spec = load_spec(REFERENCE)
    files = repository.environment_files(spec, spec.environments["dev"], project="p", repo_url=URL)
    by_kind = {d["kind"]: d for d in _docs(files["manifests/clusters/policies/constraints.yaml"])}
    assert set(by_kind) == {"K8sPSPPrivilegedContainer", "K8sAllowedRepos", "K8sRequiredLabels"}
    repos = by_kind["K8sAllowedRepos"]
    assert repos["spec"]["enforcementAction"] == "deny"
    assert repos["spec"]["match"]["namespaces"] == ["nlp-team", "vision"]
    assert "docker.io/rayproject/" in repos["spec"]["parameters"]["repos"]
    assert by_kind["K8sRequiredLabels"]["spec"]["parameters"]["labels"] == [
        {"key": "mlplat.dev/team"}
    ]
