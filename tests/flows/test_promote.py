"""promote: a team's own file in dev reaches staging (and its cluster) and nothing else moves;
a second promotion changes nothing; a file removed in dev is removed in staging."""

from __future__ import annotations

import pytest
import yaml
from github import GithubException
from kubernetes import client

from flows.promote import promote
from flows.provision_platform import provision_platform
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.platform_clients import kube, repo

JOB = "manifests/apps/nlp/settings.yaml"


def _config_map(value: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "training-settings", "namespace": "nlp-team"},
            "data": {"epochs": value},
        }
    )


def _blobs(sandbox: Sandbox, ref: str) -> dict[str, str]:
    tree = repo(sandbox).get_git_tree(ref, recursive=True).tree
    return {e.path: e.sha for e in tree if e.type == "blob"}


def test_promote_moves_only_the_teams_own_files(sandbox: Sandbox) -> None:
    where = {"spec_dir": str(REFERENCE), "endpoints": str(sandbox.endpoints_path)}
    provision_platform(envs=["dev", "staging"], **where)
    gitops = repo(sandbox)
    gitops.create_file(JOB, "nlp: training settings", _config_map("10"), branch="dev")
    before = _blobs(sandbox, "staging")

    plan = promote("dev", "staging", dry_run=True, **where)
    assert [r["fields"] for r in plan["rows"] if r["action"] == "update"] == [JOB]

    result = promote("dev", "staging", **where)
    after = _blobs(sandbox, "staging")
    assert {p for p in after.keys() | before.keys() if after.get(p) != before.get(p)} == {JOB}
    rows = {r["resource"]: r for r in result["rows"]}
    head = gitops.get_branch("staging").commit.sha
    assert rows["gate/reposync nlp-team/repo-sync"]["detail"] == f"synced at {head[:12]}"
    settings = client.CoreV1Api(kube(sandbox, "staging")).read_namespaced_config_map(
        "training-settings", "nlp-team"
    )
    assert settings.data == {"epochs": "10"}

    admin(sandbox, "POST", "/counters/reset")
    again = promote("dev", "staging", **where)
    assert writes(sandbox) == {}
    assert again["counts"]["update"] == 0

    current = gitops.get_contents(JOB, ref="dev")
    assert not isinstance(current, list)
    gitops.delete_file(JOB, "nlp: settings retired", current.sha, branch="dev")
    promote("dev", "staging", team="nlp", **where)
    with pytest.raises(GithubException) as gone:
        gitops.get_contents(JOB, ref="staging")
    assert gone.value.status == 404
