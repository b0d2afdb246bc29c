"""Drift inside the cluster, one out-of-band change per case, each on a fresh platform: the check
reports exactly that change with its class; remediation fixes what it can, and reports what
needs a human."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from tests.flows.config_sync_edits import edit_role_binding
from tests.flows.conftest import REFERENCE, admin, drift_check
from tests.flows.platform_clients import kube, kubectl, repo

Findings = set[tuple[str, str, str]]


def _drift(sandbox: Sandbox, remediate: bool = False) -> tuple[str, Findings]:
    name, rows = drift_check(sandbox, remediate)
    return name, {(f["resource"], f["drift"], f["field"]) for f in rows}


def _committed(sandbox: Sandbox, namespace: str) -> Findings:
    """Every object the dev branch declares in `namespace`, read from Git, as missing."""
    found: Findings = set()
    branch = repo(sandbox)
    tree = branch.get_git_tree("dev", recursive=True).tree
    for entry in tree:
        if not entry.path.endswith(".yaml"):
            continue
        content = branch.get_contents(entry.path, ref="dev")
        assert not isinstance(content, list)
        for doc in yaml.safe_load_all(content.decoded_content):
            if not isinstance(doc, dict):
                continue
            meta = doc["metadata"]
            if meta.get("namespace") == namespace:
                found.add((f"k8s/{doc['kind']} {namespace}/{meta['name']}", "missing", ""))
            elif doc["kind"] == "Namespace" and meta["name"] == namespace:
                found.add((f"k8s/Namespace {namespace}", "missing", ""))
    return found


def _delete_namespace(sandbox: Sandbox, tmp_path: Path) -> Findings:
    deleted = kubectl(sandbox, "dev", tmp_path, "delete", "namespace", "nlp-team", "--wait=true")
    assert deleted.returncode == 0, deleted.stderr
    return _committed(sandbox, "nlp-team") | {("k8s/secret nlp-team/git-creds", "missing", "")}


CASES: dict[str, Callable[[Sandbox, Path], Findings]] = {
    "team namespace deleted with kubectl": _delete_namespace,
    "RoleBinding edited": edit_role_binding,
}


def _without_drift_prevention(tmp_path: Path) -> Path:
    """The reference spec with Config Sync's drift prevention turned off."""
    spec = tmp_path / "spec"
    shutil.copytree(REFERENCE, spec, ignore=shutil.ignore_patterns("schema"))
    platform = yaml.safe_load((spec / "platform.yaml").read_text())
    platform["environment_defaults"]["config_sync"] = {"prevent_drift": False}
    (spec / "platform.yaml").write_text(yaml.safe_dump(platform))
    return spec


@pytest.mark.parametrize("case", list(CASES))
def test_out_of_band_change_is_reported_then_remediated(
    case: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Without drift prevention, with Config Sync's controllers held still so that its own
    remediation does not race mlplat's report."""
    spec = _without_drift_prevention(tmp_path)
    provision_environment("dev", spec_dir=str(spec), endpoints=str(sandbox.endpoints_path))
    name, rows = drift_check(sandbox, spec_dir=spec)
    assert (name, rows) == ("Completed", [])
    admin(sandbox, "PUT", "/controllers", {"paused": True})
    expected = CASES[case](sandbox, tmp_path)
    name, rows = drift_check(sandbox, spec_dir=spec)
    assert (name, {(f["resource"], f["drift"], f["field"]) for f in rows}) == ("Drifted", expected)
    admin(sandbox, "PUT", "/controllers", {"paused": False})
    assert drift_check(sandbox, remediate=True, spec_dir=spec) == ("Completed", [])
    assert drift_check(sandbox, spec_dir=spec) == ("Completed", [])
    if case == "RoleBinding edited":  # with Config Sync running, it puts the edit back itself
        edit_role_binding(sandbox, tmp_path)
        _wait_put_back(sandbox)
        assert drift_check(sandbox, spec_dir=spec) == ("Completed", [])


def _wait_put_back(sandbox: Sandbox) -> None:
    rbac = client.RbacAuthorizationV1Api(kube(sandbox, "dev"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        subjects = rbac.read_namespaced_role_binding("vision-developers", "vision").subjects
        if all(s.name != "mallory" for s in subjects):
            return
        time.sleep(0.2)
    raise AssertionError("Config Sync did not put the RoleBinding back within 15 s")


@pytest.mark.provisioned
def test_bad_commit_is_a_sync_error_that_needs_a_human(sandbox: Sandbox) -> None:
    bad = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "in-the-wrong-place", "namespace": "kube-system"},
        }
    )
    repo(sandbox).create_file(
        "manifests/apps/vision/oops.yaml", "a team's bad manifest", bad, branch="dev"
    )
    sync = client.CustomObjectsApi(kube(sandbox, "dev"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = sync.get_namespaced_custom_object(
            "configsync.gke.io", "v1beta1", "vision", "reposyncs", "repo-sync"
        ).get("status", {})
        if status.get("source", {}).get("errors") or status.get("sync", {}).get("errors"):
            break
        time.sleep(0.3)
    expected = {("k8s/RepoSync vision/repo-sync", "sync error", "status")}
    assert _drift(sandbox) == ("Drifted", expected)
    # The team's own file is not mlplat's to delete: remediation leaves it to a human.
    assert _drift(sandbox, remediate=True) == ("Drifted", expected)
