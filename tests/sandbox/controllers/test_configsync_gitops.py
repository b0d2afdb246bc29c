"""Issue 4 "done when", Config Sync part: the fleet's configmanagement spec installs Config Sync,
`root-sync` syncs the env branch of the GitOps repository (apply, prune, errors, drift), GKE Hub
shows it, and kubectl reaches it with the kubeconfig of `python -m sandbox kubeconfig`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from google.cloud import gkehub_v1
from google.cloud.gkehub_v1 import configmanagement_v1 as cm

from sandbox.__main__ import main
from sandbox.controllers.component import Controllers
from tests.sandbox import gke_setup as gke
from tests.sandbox.controllers.fleet_env import (
    CS,
    MEMBERSHIP,
    POLICY_DIR,
    SYSTEM,
    Fleet,
    eventually,
)

NAMESPACE = f"{POLICY_DIR}/team-a/namespace.yaml"
CONFIGMAP = f"{POLICY_DIR}/team-a/settings.yaml"
BROKEN = f"{POLICY_DIR}/broken.yaml"
SYNC = cm.SyncState.SyncCode
NAMESPACE_YAML = (
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels:\n    team: a\n"
)
CONFIGMAP_YAML = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
data:
  mode: fast
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: limits
  namespace: team-a
data:
  gpus: "2"
"""


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == kind), {})


def _source_errors(fleet: Fleet) -> list[dict[str, Any]]:
    return list((fleet.sync().get("status") or {}).get("source", {}).get("errors") or [])


def test_config_sync_installs_syncs_prunes_and_reports(fleet: Fleet) -> None:
    core = fleet.core
    eventually(lambda: core.read_namespace(SYSTEM), "config-management-system")
    root = eventually(fleet.sync, "root-sync")
    git = root["spec"]["git"]
    assert root["spec"]["sourceFormat"] == "unstructured"
    assert (git["repo"], git["branch"], git["dir"], git["auth"], git["secretRef"]) == (
        f"{fleet.github.url}/mlplat/platform-config.git",
        "dev",
        POLICY_DIR,
        "token",
        {"name": "git-creds"},
    )
    for name in ("reconciler-manager", "root-reconciler"):
        eventually(lambda n=name: fleet.api and _deployment_ready(fleet, n), f"{name} ready")
    assert core.read_namespaced_service_account("root-reconciler", SYSTEM)

    # No git-creds yet: stalled, as reconciler-manager reports it.
    stalled = eventually(
        lambda: (
            _condition(fleet.sync().get("status") or {}, "Stalled").get("status") == "True"
            and _condition(fleet.sync()["status"], "Stalled")
        ),
        "root-sync stalled",
    )
    assert stalled["reason"] == "Validation"
    assert stalled["message"].startswith(
        "KNV1061: Secret git-creds not found: create one to allow client authentication"
    )
    state = eventually(
        lambda: (
            (s := fleet.hub_state()).configmanagement.config_sync_state.sync_state.code
            == SYNC.ERROR
            and s
        ),  # ERROR
        "hub reports the error",
    )
    assert (
        "git-creds not found"
        in state.configmanagement.config_sync_state.sync_state.errors[0].error_message
    )

    # A token GitHub does not know: git-sync's authentication error.
    fleet.git_creds(SYSTEM, token="ghp_notAToken00000000000000000000000000")
    errors = eventually(lambda: _source_errors(fleet), "authentication error")
    assert errors[0]["code"] == "2004"
    assert "Authentication failed" in errors[0]["errorMessage"]

    fleet.git_creds(SYSTEM)
    first = fleet.push({NAMESPACE: NAMESPACE_YAML, CONFIGMAP: CONFIGMAP_YAML}, "team-a")
    status = fleet.synced(first)
    assert status["source"]["commit"] == status["sync"]["commit"] == first
    assert "errors" not in status["source"] and "errors" not in status["sync"]
    syncing = _condition(status, "Syncing")
    assert (syncing["status"], syncing["message"], syncing["commit"]) == (
        "False",
        "Sync Completed",
        first,
    )
    settings = core.read_namespaced_config_map("settings", "team-a")
    assert settings.data == {"mode": "fast"}
    annotations = settings.metadata.annotations
    assert annotations["config.k8s.io/owning-inventory"] == f"{SYSTEM}_root-sync"
    assert annotations["configsync.gke.io/resource-id"] == "_configmap_team-a_settings"
    assert annotations["configmanagement.gke.io/token"] == first
    assert settings.metadata.labels["app.kubernetes.io/managed-by"] == "configmanagement.gke.io"
    managers = {(m.manager, m.operation) for m in settings.metadata.managed_fields}
    assert ("configsync.gke.io", "Apply") in managers
    assert core.read_namespace("team-a").metadata.labels["team"] == "a"
    sync_state = eventually(
        lambda: (
            (s := fleet.hub_state().configmanagement.config_sync_state.sync_state).code
            == SYNC.SYNCED
            and s
        ),  # SYNCED
        "hub reports SYNCED",
    )
    assert sync_state.sync_token == first and not sync_state.errors
    assert fleet.hub_state().state.code == gkehub_v1.FeatureState.Code.OK

    # The second ConfigMap leaves Git: pruned; the namespace stays.
    single = CONFIGMAP_YAML.split("---\n", maxsplit=1)[0]
    second = fleet.push({CONFIGMAP: single}, "drop limits")
    fleet.synced(second)
    eventually(lambda: _gone(lambda: core.read_namespaced_config_map("limits", "team-a")), "pruned")
    assert core.read_namespaced_config_map("settings", "team-a")
    inventory = fleet.custom.get_namespaced_custom_object(
        "kpt.dev", "v1alpha1", SYSTEM, "resourcegroups", "root-sync"
    )
    assert {r["name"] for r in inventory["spec"]["resources"]} == {"team-a", "settings"}

    # Unreadable YAML, then an unknown kind: source errors, nothing applied, Hub says ERROR.
    fleet.push({BROKEN: "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n"}, "broken")
    errors = eventually(lambda: _source_errors(fleet), "YAML error")
    assert errors[0]["code"] == "2001" and BROKEN in errors[0]["errorMessage"]
    status = fleet.sync()["status"]
    assert status["lastSyncedCommit"] == second
    assert _condition(status, "Syncing")["reason"] == "Source"
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: team-a\n"
    fleet.push({BROKEN: widget}, "unknown kind")
    errors = eventually(
        lambda: [e for e in _source_errors(fleet) if e["code"] == "1021"], "unknown kind"
    )
    assert (
        'No CustomResourceDefinition is defined for the type "Widget.example.com"'
        in (errors[0]["errorMessage"])
    )
    assert errors[0]["resources"][0]["sourcePath"] == BROKEN
    eventually(
        lambda: [
            e
            for e in fleet.hub_state().configmanagement.config_sync_state.sync_state.errors
            if e.code == "1021"
        ],
        "hub reports the unknown kind",
    )
    fixed = fleet.push({BROKEN: None}, "fix")
    fleet.synced(fixed)

    # Drift: changed out of band, put back at the next resync (1 h of sandbox time).
    core.patch_namespace("team-a", {"metadata": {"labels": {"team": "hijacked"}}})
    core.patch_namespaced_config_map("settings", "team-a", {"data": {"mode": "slow"}})
    fleet.sandbox.rt.advance(3600)
    eventually(lambda: core.read_namespace("team-a").metadata.labels["team"] == "a", "label back")
    eventually(
        lambda: core.read_namespaced_config_map("settings", "team-a").data == {"mode": "fast"},
        "data back",
    )


def _gone(read: Any) -> bool:
    try:
        read()
    except Exception as exc:  # the client's ApiException
        return getattr(exc, "status", None) == 404
    return False


def _deployment_ready(fleet: Fleet, name: str) -> bool:
    from kubernetes import client  # noqa: PLC0415

    found = client.AppsV1Api(fleet.api).read_namespaced_deployment(name, SYSTEM)
    return bool(found.status.ready_replicas == 1)


def _baseline(fleet: Fleet) -> str:
    """Credentials in place and the team-a namespace synced (whatever ran before)."""
    fleet.git_creds(SYSTEM)
    return str(fleet.synced(fleet.push({NAMESPACE: NAMESPACE_YAML}))["lastSyncedCommit"])


def test_a_new_commit_waits_for_the_modelled_delay(fleet: Fleet) -> None:
    """Realistic latency: a pushed commit is seen at the next poll (15 s period) and applied
    after the modelled delay; on the sandbox clock, advancing it brings the sync on."""
    _baseline(fleet)
    rt = fleet.sandbox.rt
    with gke.slow_operations(fleet.sandbox, time_scale=5.0):
        commit = fleet.push(
            {
                f"{POLICY_DIR}/team-a/later.yaml": CONFIGMAP_YAML.replace(
                    "settings", "later"
                ).split("---")[0]
            }
        )
        status = fleet.sync()["status"]
        assert status["lastSyncedCommit"] != commit  # the poll period has not passed

        def synced() -> bool:
            if (fleet.sync()["status"] or {}).get("lastSyncedCommit") == commit:
                return True
            rt.advance(10)
            return False

        eventually(synced, "synced after advancing the clock", timeout=20)
    assert fleet.core.read_namespaced_config_map("later", "team-a").data == {"mode": "fast"}


def _stalled(fleet: Fleet) -> bool:
    return _condition(fleet.sync().get("status") or {}, "Stalled").get("status") == "True"


def test_a_sync_waiting_for_its_secret_goes_on_when_the_secret_is_written(fleet: Fleet) -> None:
    """reconciler-manager watches the Secret a sync names: once it is written, the sync reads
    its source within a pass, not at its next poll (15 s on the sandbox clock here)."""
    _baseline(fleet)
    rt = fleet.sandbox.rt
    with gke.slow_operations(fleet.sandbox, time_scale=1.0):
        fleet.core.delete_namespaced_secret("git-creds", SYSTEM)

        def stalled() -> bool:
            if _stalled(fleet):
                return True
            rt.advance(16)  # the next poll finds the Secret gone
            return False

        eventually(stalled, "root-sync stalled without its Secret", timeout=20)
        stalled_at = rt.now()
        fleet.git_creds(SYSTEM)
        eventually(lambda: not _stalled(fleet), "root-sync goes on with its Secret", timeout=5)
        assert rt.now() - stalled_at < 15  # before the poll period brought it on


def test_kubectl_with_the_kubeconfig_subcommand(
    fleet: Fleet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    root = _baseline(fleet)
    state_dir = fleet.sandbox.state_dir
    assert (
        main(["kubeconfig", MEMBERSHIP, "--project", fleet.project, "--state-dir", str(state_dir)])
        == 0
    )
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(capsys.readouterr().out)
    assert (
        "https://" in kubeconfig.read_text()
        and "certificate-authority-data" in kubeconfig.read_text()
    )
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
    done = subprocess.run(
        [kubectl, "--request-timeout=20s", "get", "rootsync", "-n", SYSTEM],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAME", "RENDERINGCOMMIT"]
    assert lines[1].split()[0] == "root-sync" and root in lines[1]
    by_number = main(
        ["kubeconfig", MEMBERSHIP, "--project", fleet.number, "--state-dir", str(state_dir)]
    )
    assert by_number == 0 and f"/projects/{fleet.number}/" in capsys.readouterr().out
    assert CS[0] in fleet.sync()["apiVersion"]


def _admin(fleet: Fleet, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(fleet.sandbox.admin_url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_paused_controllers_make_no_pass_until_resumed(fleet: Fleet) -> None:
    """The admin endpoint sets the in-cluster controllers aside (benchmarks of the tool do)."""
    _baseline(fleet)
    assert _admin(fleet, "PUT", "/controllers", {"paused": True}) == {"paused": True}
    assert _admin(fleet, "GET", "/controllers") == {"paused": True}
    paused = CONFIGMAP_YAML.split("---", maxsplit=1)[0].replace("settings", "paused")
    commit = fleet.push({f"{POLICY_DIR}/team-a/paused.yaml": paused})
    time.sleep(2)  # ten passes' worth in instant mode
    assert (fleet.sync()["status"] or {}).get("lastSyncedCommit") != commit
    assert _admin(fleet, "PUT", "/controllers", {"paused": False}) == {"paused": False}
    fleet.synced(commit)
    with pytest.raises(urllib.error.HTTPError) as refused:
        _admin(fleet, "PUT", "/controllers", {"paused": "yes"})
    assert refused.value.code == 400


def test_stopping_controllers_do_no_more_cluster_work_in_the_pass_in_progress(
    fleet: Fleet,
) -> None:
    """`stop` waits for the pass in progress, so a stopping pass skips the clusters left: one
    over 1,000 teams' syncs went on for minutes after SIGTERM."""
    controllers = fleet.sandbox.component("controllers")
    assert isinstance(controllers, Controllers)
    worked: list[str] = []
    assert controllers._guard("before", lambda: worked.append("before")) is None
    controllers._stop.set()  # what stop() does first
    assert controllers._guard("after", lambda: worked.append("after")) is None
    assert worked == ["before"]
