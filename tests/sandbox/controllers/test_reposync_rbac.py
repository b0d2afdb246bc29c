"""RepoSyncs from Git: a team's RepoSync syncs its folder as its own reconciler, only with the
permissions a RoleBinding gives it, and only into its namespace."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from tests.sandbox.controllers.fleet_env import (
    APP,
    APPS,
    BINDING,
    POLICY_DIR,
    RECONCILER,
    SYSTEM,
    Fleet,
    eventually,
    team_syncs,
)


def _repo_sync(fleet: Fleet) -> dict[str, Any]:
    return dict(fleet.sync("team-b", "repo-sync", "reposyncs").get("status") or {})


def test_reposync_needs_a_rolebinding_and_stays_in_its_namespace(fleet: Fleet) -> None:
    fleet.git_creds(SYSTEM)
    repo_url = f"{fleet.github.url}/mlplat/platform-config.git"
    commit = fleet.push(
        {f"{POLICY_DIR}/team-b/team.yaml": team_syncs(repo_url), f"{APPS}/app.yaml": APP}, "team-b"
    )
    fleet.synced(commit)
    stalled = eventually(
        lambda: [
            c
            for c in _repo_sync(fleet).get("conditions") or []
            if c["type"] == "Stalled" and c["status"] == "True"
        ],
        "RepoSync without git-creds stalls",
    )
    assert "KNV1061: Secret git-creds not found" in stalled[0]["message"]
    assert fleet.core.read_namespaced_service_account(RECONCILER, SYSTEM)
    assert client.AppsV1Api(fleet.api).read_namespaced_deployment(RECONCILER, SYSTEM)
    assert fleet.core.read_namespaced_service_account("ns-reconciler-team-c-ml-2", SYSTEM)

    fleet.git_creds("team-b")
    errors = eventually(lambda: _repo_sync(fleet).get("sync", {}).get("errors"), "permission error")
    assert errors[0]["code"] == "2009"
    assert errors[0]["errorMessage"].startswith(
        f'KNV2009: configmaps "app-config" is forbidden: User '
        f'"system:serviceaccount:{SYSTEM}:{RECONCILER}" cannot get resource "configmaps" in API '
        'group "" in the namespace "team-b"'
    )
    assert "lastSyncedCommit" not in _repo_sync(fleet)

    commit = fleet.push({f"{POLICY_DIR}/team-b/rbac.yaml": BINDING}, "let the reconciler in")
    fleet.synced(commit)
    status = fleet.synced(commit, "team-b", "repo-sync", "reposyncs")
    assert status["reconciler"] == RECONCILER and "errors" not in status["sync"]
    app = fleet.core.read_namespaced_config_map("app-config", "team-b")
    assert app.data == {"replicas": "2"}
    assert app.metadata.annotations["config.k8s.io/owning-inventory"] == "team-b_repo-sync"
    assert app.metadata.annotations["configsync.gke.io/manager"] == "team-b_repo-sync"

    elsewhere = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: sneaky, namespace: team-a}\n"
    cluster_wide = "apiVersion: v1\nkind: Namespace\nmetadata: {name: sneaky}\n"
    fleet.push(
        {f"{APPS}/elsewhere.yaml": elsewhere, f"{APPS}/cluster.yaml": cluster_wide}, "escape"
    )
    errors = eventually(lambda: _repo_sync(fleet).get("source", {}).get("errors"), "scope errors")
    assert {e["code"] for e in errors} == {"1058"}
    messages = " ".join(e["errorMessage"] for e in errors)
    assert 'must either omit metadata.namespace or declare metadata.namespace="team-b"' in messages
    assert "are Cluster-scoped. Move sneaky to the Root repo." in messages
    fixed = fleet.push({f"{APPS}/elsewhere.yaml": None, f"{APPS}/cluster.yaml": None}, "back")
    fleet.synced(fixed, "team-b", "repo-sync", "reposyncs")
