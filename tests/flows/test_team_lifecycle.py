"""A team's life on one environment: a quota change or a new member lands as exactly that in Git
and in the cluster; a Ray change through deploy_ray; a Ray request above the GPU quota is
refused before any call; offboarding removes everything of the team and nothing else."""

from __future__ import annotations

import difflib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from github import GithubException
from kubernetes import client
from prefect.artifacts import Artifact

from flows.deploy_ray import deploy_ray
from flows.offboard_team import offboard_team
from flows.onboard_team import onboard_team
from flows.provision_environment import provision_environment
from mlplat.errors import PermanentError, SpecError
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.platform_clients import (
    account_policy,
    kube,
    project_id,
    repo,
    service_account,
    status_of,
)

TEAM_FILE = "manifests/clusters/teams/nlp.yaml"
RAY_FILE = "manifests/apps/nlp/raycluster.yaml"


def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "infra_specs"
    shutil.copytree(REFERENCE, spec)
    return spec


def _edit(spec: Path, team: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = spec / "teams" / f"{team}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _file(sandbox: Sandbox, path: str, ref: str) -> list[str]:
    content = repo(sandbox).get_contents(path, ref=ref)
    assert not isinstance(content, list)
    return content.decoded_content.decode().splitlines()


def _diff(before: list[str], after: list[str]) -> list[str]:
    return [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]


def _changed_paths(sandbox: Sandbox, base: str, head: str) -> list[str]:
    """Paths whose blob differs between two commits (added, changed or removed)."""

    def blobs(sha: str) -> dict[str, str]:
        tree = repo(sandbox).get_git_tree(sha, recursive=True).tree
        return {e.path: e.sha for e in tree if e.type == "blob"}

    old, new = blobs(base), blobs(head)
    return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))


def _google_writes(sandbox: Sandbox) -> dict[str, int]:
    return {m: n for m, n in writes(sandbox).items() if not m.startswith(("github", "git"))}


@pytest.mark.provisioned
def test_quota_member_and_ray_changes_land_exactly(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    where = {"spec_dir": str(spec), "endpoints": str(sandbox.endpoints_path)}
    base = repo(sandbox).get_branch("dev").commit.sha
    before = _file(sandbox, TEAM_FILE, base)

    def more_quota_and_frank(team: dict[str, Any]) -> None:
        team["quota"]["cpu"] = "80"
        team["members"]["developer"]["users"].append("frank@example.com")

    _edit(spec, "nlp", more_quota_and_frank)
    admin(sandbox, "POST", "/counters/reset")
    result = onboard_team("dev", "nlp", **where)
    head = repo(sandbox).get_branch("dev").commit.sha
    assert _changed_paths(sandbox, base, head) == [TEAM_FILE]
    assert _diff(before, _file(sandbox, TEAM_FILE, head)) == [
        "+- apiGroup: rbac.authorization.k8s.io",
        "+  kind: User",
        "+  name: frank@example.com",
        "-    requests.cpu: '64'",
        "+    requests.cpu: '80'",
    ]
    assert _google_writes(sandbox) == {}, "a team change is Git only"
    assert result["quota"]["cpu"] == "80"
    assert "frank@example.com" in result["members"]["developer"]
    assert result["access"]["checked"] > 0 and result["access"]["failures"] == []
    artifact = Artifact.get("team-nlp-dev")
    assert artifact is not None
    assert "**Quota**: 80 CPU, 256Gi memory, 4 GPU, 100 pods" in str(artifact.data)
    assert "`frank@example.com`" in str(artifact.data)
    assert "`ray://nlp-ray-head-svc.nlp-team.svc:10001`" in str(artifact.data)

    api = kube(sandbox, "dev")
    quota = client.CoreV1Api(api).read_namespaced_resource_quota("team-quota", "nlp-team")
    assert quota.spec.hard["requests.cpu"] == "80"
    binding = client.RbacAuthorizationV1Api(api).read_namespaced_role_binding(
        "nlp-developers", "nlp-team"
    )
    assert [s.name for s in binding.subjects] == [
        "dave@example.com",
        "erin@example.com",
        "frank@example.com",
    ]
    frank = client.CoreV1Api(kube(sandbox, "dev", "frank@example.com"))
    assert status_of(lambda: frank.list_namespaced_pod("nlp-team")) == 200
    assert status_of(lambda: frank.list_namespaced_pod("vision")) == 403

    # deploy_ray: the CPU workers scale to at most 3; only the RayCluster file changes.
    def fewer_cpu_workers(team: dict[str, Any]) -> None:
        team["ray"]["workers"][0]["max_replicas"] = 3

    _edit(spec, "nlp", fewer_cpu_workers)
    ray = deploy_ray("dev", "nlp", **where)
    newest = repo(sandbox).get_branch("dev").commit.sha
    assert _changed_paths(sandbox, head, newest) == [RAY_FILE]
    assert ray["endpoint"] == "ray://nlp-ray-head-svc.nlp-team.svc:10001"
    rc = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "ray.io", "v1", "nlp-team", "rayclusters", "nlp-ray"
    )
    groups = {g["groupName"]: g for g in rc["spec"]["workerGroupSpecs"]}
    assert groups["cpu"]["maxReplicas"] == 3
    assert rc["status"]["state"] == "ready"

    # Above the GPU quota: refused while reading the spec, before any call or commit.
    def too_many_gpus(team: dict[str, Any]) -> None:
        team["ray"]["workers"][1]["max_replicas"] = 3  # 3 × 2 GPUs > quota.gpu 4

    _edit(spec, "nlp", too_many_gpus)
    admin(sandbox, "POST", "/counters/reset")
    with pytest.raises(SpecError) as refused:
        onboard_team("dev", "nlp", **where)
    assert "teams/nlp.yaml" in str(refused.value)
    assert "ray needs up to 6 GPUs at full scale but quota.gpu is 4" in str(refused.value)
    assert writes(sandbox) == {}
    assert repo(sandbox).get_branch("dev").commit.sha == newest

    # A grant made out of band that lets a member into another team's namespace fails the run.
    def gpus_within_quota(team: dict[str, Any]) -> None:
        team["ray"]["workers"][1]["max_replicas"] = 2

    _edit(spec, "nlp", gpus_within_quota)
    client.RbacAuthorizationV1Api(api).create_cluster_role_binding(
        {
            "metadata": {"name": "too-broad"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob@example.com"}
            ],
        }
    )
    with pytest.raises(PermanentError, match="access check failed: vision: ") as denied:
        onboard_team("dev", "vision", **where)
    assert "user bob@example.com may not list pods in nlp-team" in str(denied.value)
    report = Artifact.get("team-vision-dev")
    assert report is not None and "**Access check**: FAILED" in str(report.data)


@pytest.mark.provisioned
def test_offboarding_removes_everything_of_the_team(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    where = {"spec_dir": str(spec), "endpoints": str(sandbox.endpoints_path)}
    with pytest.raises(PermanentError, match="still lists environment 'dev'"):
        offboard_team("dev", "nlp", confirm=True, **where)

    _edit(spec, "nlp", lambda team: team.update(environments=["staging"]))
    admin(sandbox, "POST", "/counters/reset")
    plan = offboard_team("dev", "nlp", **where)
    assert writes(sandbox) == {}, "without confirm, offboarding only plans"
    planned = {row["resource"]: row["action"] for row in plan["rows"]}
    assert planned["k8s/namespace nlp-team"] == "delete"
    assert planned["iam/service-account mlp-dev-nlp@mlp-dev-a1b2.iam.gserviceaccount.com"] == (
        "delete"
    )
    assert planned["git/manifests dev"] == "update"

    done = offboard_team("dev", "nlp", confirm=True, **where)
    assert done["namespaces"] == ["nlp-team"]
    api = kube(sandbox, "dev")
    core = client.CoreV1Api(api)
    assert status_of(lambda: core.read_namespace("nlp-team")) == 404
    rbac = client.RbacAuthorizationV1Api(api)
    selector = "mlplat.dev/team=nlp"
    assert rbac.list_role_binding_for_all_namespaces(label_selector=selector).items == []
    assert rbac.list_role_for_all_namespaces(label_selector=selector).items == []
    syncs = client.CustomObjectsApi(api).list_cluster_custom_object(
        "configsync.gke.io", "v1beta1", "reposyncs"
    )
    assert [s["metadata"]["namespace"] for s in syncs["items"]] == ["vision"]
    apps = client.AppsV1Api(api)
    assert (
        status_of(
            lambda: apps.read_namespaced_deployment(
                "ns-reconciler-nlp-team", "config-management-system"
            )
        )
        == 404
    )
    kuberay = lambda: apps.read_namespaced_deployment("kuberay-operator", "kuberay-system")  # noqa: E731
    assert status_of(kuberay) == 404  # GKE's Ray operator add-on runs KubeRay, for every namespace
    assert service_account(sandbox, "dev", "mlp-dev-nlp")[0] == 404
    for path in (TEAM_FILE, RAY_FILE):
        with pytest.raises(GithubException) as missing:
            repo(sandbox).get_contents(path, ref="dev")
        assert missing.value.status == 404
    # The other team is untouched.
    assert core.read_namespace("vision").status.phase == "Active"
    assert service_account(sandbox, "dev", "mlp-dev-vision")[0] == 200

    admin(sandbox, "POST", "/counters/reset")
    again = offboard_team("dev", "nlp", confirm=True, **where)
    assert writes(sandbox) == {}
    assert again["counts"]["noop"] == len(again["rows"])


def test_team_flows_refuse_what_they_cannot_do(sandbox: Sandbox) -> None:
    where = {"spec_dir": str(REFERENCE), "endpoints": str(sandbox.endpoints_path)}
    with pytest.raises(PermanentError, match="run provision-environment dev first"):
        onboard_team("dev", "vision", **where)
    with pytest.raises(PermanentError, match=r"team 'nlp' is not in environment 'prod'"):
        onboard_team("prod", "nlp", dry_run=True, **where)
    assert writes(sandbox) == {}


def test_a_refused_identity_fails_the_run_naming_its_team_and_the_next_run_repairs_it(
    sandbox: Sandbox,
) -> None:
    """Identities converge in one task per environment: one team's refusal must not hide behind
    the others, nor stop them."""
    where = {"spec_dir": str(REFERENCE), "endpoints": str(sandbox.endpoints_path)}
    refusal = {"method": "iam.projects.serviceAccounts.setIamPolicy", "times": 1, "code": 403}
    admin(sandbox, "PUT", "/faults", {"rules": [refusal]})
    with pytest.raises(Exception, match="mlp-dev-") as refused:
        provision_environment("dev", **where)
    named = [team for team in ("nlp", "vision") if f"mlp-dev-{team}@" in str(refused.value)]
    assert len(named) == 1, str(refused.value)
    bound = {
        team: any(
            b["role"] == "roles/iam.workloadIdentityUser"
            for b in account_policy(sandbox, "dev", f"mlp-dev-{team}").get("bindings", [])
        )
        for team in ("nlp", "vision")
    }
    assert bound == {"nlp": named != ["nlp"], "vision": named != ["vision"]}

    admin(sandbox, "PUT", "/faults", {"rules": []})
    admin(sandbox, "POST", "/counters/reset")
    result = provision_environment("dev", **where)
    identities = {
        row["resource"]: row["action"]
        for row in result["rows"]
        if row["resource"].startswith("iam/service-account mlp-dev-")
        and "nodes" not in row["resource"]
    }
    assert identities == {
        f"iam/service-account mlp-dev-{team}@{project_id('dev')}.iam.gserviceaccount.com": (
            "update" if [team] == named else "noop"
        )
        for team in ("nlp", "vision")
    }
    assert _google_writes(sandbox) == {"iam.projects.serviceAccounts.setIamPolicy": 1}
