"""Teams on the sandbox: two teams in two environments get exactly their objects, synced and
ready, isolated from each other (by SubjectAccessReview and by real requests made as the
members); a second run changes nothing; an out-of-band deletion is reported as drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubernetes import client

from flows.check_drift import check_drift
from flows.provision_platform import provision_platform
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.platform_clients import (
    account_policy,
    delete_service_account,
    kube,
    kubectl,
    project_id,
    repo,
    service_account,
    status_of,
)

ENVS = ("dev", "staging")
# What each team has in its namespace besides what Kubernetes adds (default SA, root CA).
EXPECTED = {
    "vision": {
        "Role": {"vision-admin", "vision-developer", "vision-viewer", "repo-sync-reconciler"},
        "RoleBinding": {
            "vision-admins",
            "vision-developers",
            "vision-viewers",
            "repo-sync-reconciler",
            "configsync.gke.io:ns-reconciler-vision",  # Config Sync's own, for its reconciler
        },
        "ResourceQuota": {"team-quota"},
        "LimitRange": {"team-defaults"},
        "NetworkPolicy": {"deny-from-other-namespaces", "allow-kuberay-operator"},
        "RepoSync": {"repo-sync"},
        "ServiceAccount": {"vision-workloads"},
        "Secret": {"git-creds"},
        "RayCluster": {"vision-ray"},
        "Deployment": {"vision-notebook"},
    },
    "nlp": {
        "Role": {"nlp-admin", "nlp-developer", "nlp-viewer", "repo-sync-reconciler"},
        "RoleBinding": {
            "nlp-admins",
            "nlp-developers",
            "repo-sync-reconciler",
            "configsync.gke.io:ns-reconciler-nlp-team",
        },
        "ResourceQuota": {"team-quota"},
        "LimitRange": {"team-defaults"},
        "NetworkPolicy": {"deny-from-other-namespaces", "allow-kuberay-operator"},
        "RepoSync": {"repo-sync"},
        "ServiceAccount": {"nlp-workloads"},
        "Secret": {"git-creds"},
        "RayCluster": {"nlp-ray"},
        "Deployment": set(),
    },
}
NAMESPACE = {"vision": "vision", "nlp": "nlp-team"}


def _names(items: Any, skip: set[str] = frozenset()) -> set[str]:  # type: ignore[assignment]
    return {item.metadata.name for item in items.items} - skip


def _objects(api: client.ApiClient, namespace: str) -> dict[str, set[str]]:
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    custom = client.CustomObjectsApi(api)

    def custom_names(group: str, version: str, plural: str) -> set[str]:
        found = custom.list_namespaced_custom_object(group, version, namespace, plural)
        return {item["metadata"]["name"] for item in found["items"]}

    return {
        "Role": _names(rbac.list_namespaced_role(namespace)),
        "RoleBinding": _names(rbac.list_namespaced_role_binding(namespace)),
        "ResourceQuota": _names(core.list_namespaced_resource_quota(namespace)),
        "LimitRange": _names(core.list_namespaced_limit_range(namespace)),
        "NetworkPolicy": _names(
            client.NetworkingV1Api(api).list_namespaced_network_policy(namespace)
        ),
        "RepoSync": custom_names("configsync.gke.io", "v1beta1", "reposyncs"),
        "ServiceAccount": _names(core.list_namespaced_service_account(namespace), {"default"}),
        "Secret": _names(core.list_namespaced_secret(namespace)),
        "RayCluster": custom_names("ray.io", "v1", "rayclusters"),
        "Deployment": _names(client.AppsV1Api(api).list_namespaced_deployment(namespace)),
    }


def _provision(sandbox: Sandbox) -> dict[str, Any]:
    return provision_platform(
        envs=list(ENVS), spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
    )


def test_two_teams_in_two_environments(sandbox: Sandbox, tmp_path: Path) -> None:
    _provision(sandbox)
    heads = {env: repo(sandbox).get_branch(env).commit.sha for env in ENVS}
    for env in ENVS:
        api = kube(sandbox, env)
        custom = client.CustomObjectsApi(api)
        for team, namespace in NAMESPACE.items():
            assert _objects(api, namespace) == EXPECTED[team], (env, team)
            sync = custom.get_namespaced_custom_object(
                "configsync.gke.io", "v1beta1", namespace, "reposyncs", "repo-sync"
            )
            assert sync["status"]["lastSyncedCommit"] == heads[env]
            ray = custom.get_namespaced_custom_object(
                "ray.io", "v1", namespace, "rayclusters", f"{team}-ray"
            )
            assert ray["status"]["state"] == "ready"
            quota = client.CoreV1Api(api).read_namespaced_resource_quota("team-quota", namespace)
            gpus = {"vision": "8", "nlp": "4"}[team]
            assert quota.spec.hard["requests.nvidia.com/gpu"] == gpus
            account = f"mlp-{env}-{team}"
            assert service_account(sandbox, env, account)[0] == 200
            bindings = account_policy(sandbox, env, account)["bindings"]
            assert bindings == [
                {
                    "role": "roles/iam.workloadIdentityUser",
                    "members": [
                        f"serviceAccount:{project_id(env)}.svc.id.goog"
                        f"[{namespace}/{team}-workloads]"
                    ],
                }
            ]
        notebook = client.AppsV1Api(api).read_namespaced_deployment("vision-notebook", "vision")
        assert notebook.status.available_replicas == 1

    # Real requests, made as the members: allowed at home, denied next door and cluster-wide.
    alice = kube(sandbox, "dev", "alice@example.com")  # vision admin
    bob = kube(sandbox, "dev", "bob@example.com")  # vision developer
    carol = kube(sandbox, "dev", "carol@example.com")  # nlp admin
    observer = kube(sandbox, "dev", "someone@example.com", ("ml-observers@example.com",))
    assert status_of(lambda: client.CoreV1Api(alice).list_namespaced_pod("vision")) == 200
    assert status_of(lambda: client.CoreV1Api(alice).list_namespaced_secret("vision")) == 200
    assert status_of(lambda: client.CoreV1Api(alice).list_namespaced_pod("nlp-team")) == 403
    assert status_of(lambda: client.CoreV1Api(bob).list_namespaced_secret("vision")) == 403
    assert status_of(lambda: client.CoreV1Api(bob).list_namespace()) == 403
    assert status_of(lambda: client.CoreV1Api(carol).list_namespaced_pod("nlp-team")) == 200
    assert status_of(lambda: client.CoreV1Api(carol).list_namespaced_pod("vision")) == 403
    assert status_of(lambda: client.CoreV1Api(observer).list_namespaced_pod("vision")) == 200
    assert (
        status_of(
            lambda: client.CustomObjectsApi(observer).create_namespaced_custom_object(
                "ray.io", "v1", "vision", "rayclusters", {"metadata": {"name": "x"}}
            )
        )
        == 403
    )
    can_i = kubectl(
        sandbox, "dev", tmp_path, "auth", "can-i", "create", "rayclusters.ray.io",
        "-n", "nlp-team", "--as", "bob@example.com",
    )  # fmt: skip
    assert can_i.stdout.strip() == "no", can_i.stderr
    can_i = kubectl(
        sandbox, "dev", tmp_path, "auth", "can-i", "create", "rayclusters.ray.io",
        "-n", "nlp-team", "--as", "dave@example.com",
    )  # fmt: skip
    assert can_i.stdout.strip() == "yes", can_i.stderr
    _escalation_is_refused(sandbox, alice, tmp_path)

    admin(sandbox, "POST", "/counters/reset")
    second = _provision(sandbox)
    assert writes(sandbox) == {}
    for env in ENVS:
        counts = second["environments"][env]["counts"]
        assert counts["noop"] == len(second["environments"][env]["rows"]), counts

    # Out of band: the nlp team's Google service account is deleted; drift says exactly that.
    email = f"mlp-dev-nlp@{project_id('dev')}.iam.gserviceaccount.com"
    delete_service_account(sandbox, "dev", "mlp-dev-nlp")
    state = check_drift(
        "dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path), return_state=True
    )
    findings = state.result(raise_on_failure=False)["findings"]  # type: ignore[index]
    assert [(f["resource"], f["drift"]) for f in findings] == [
        (f"iam/service-account {email}", "missing")
    ]


def _binding(name: str, kind: str, role: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "erin@example.com"}
        ],
    }


def _refused(call: Any) -> str:
    """The message of the 403 a call must meet."""
    try:
        call()
    except client.ApiException as exc:
        assert exc.status == 403, exc.body
        return str(json.loads(exc.body)["message"])
    raise AssertionError("the call was allowed")


def _escalation_is_refused(sandbox: Sandbox, alice: client.ApiClient, tmp: Path) -> None:
    """Kubernetes' escalation rules: vision's admin manages RBAC in the namespace, but grants
    only what she holds (she has neither `bind` nor `escalate`)."""
    rbac = client.RbacAuthorizationV1Api(alice)
    held = (
        ' is forbidden: user "alice@example.com" (groups=["system:authenticated"]) is '
        "attempting to grant RBAC permissions not currently held:\n"
    )
    everything = '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}'
    message = _refused(
        lambda: rbac.create_namespaced_role_binding(
            "vision", _binding("own-it", "ClusterRole", "cluster-admin")
        )
    )
    assert message.startswith('rolebindings.rbac.authorization.k8s.io "own-it"' + held)
    assert everything in message.splitlines()
    message = _refused(
        lambda: rbac.create_namespaced_role(
            "vision",
            {
                "metadata": {"name": "everything"},
                "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}],
            },
        )
    )
    assert message == 'roles.rbac.authorization.k8s.io "everything"' + held + everything
    client.RbacAuthorizationV1Api(kube(sandbox, "dev")).create_namespaced_role(
        "vision",
        {
            "metadata": {"name": "quota-editor"},
            "rules": [{"apiGroups": [""], "resources": ["resourcequotas"], "verbs": ["update"]}],
        },
    )
    message = _refused(
        lambda: rbac.create_namespaced_role_binding(
            "vision", _binding("quotas", "Role", "quota-editor")
        )
    )
    assert message.endswith(
        held + '{APIGroups:[""], Resources:["resourcequotas"], Verbs:["update"]}'
    )
    made = kubectl(
        sandbox, "dev", tmp, "create", "role", "quota-editor-2", "--verb=update",
        "--resource=resourcequotas", "-n", "vision", "--as", "alice@example.com",
    )  # fmt: skip
    assert made.returncode == 1 and "is attempting to grant RBAC permissions" in made.stderr
    # what she holds she may hand on: the team's developer role, to a new colleague
    rbac.create_namespaced_role_binding("vision", _binding("erin", "Role", "vision-developer"))
    rbac.delete_namespaced_role_binding("erin", "vision")
    client.RbacAuthorizationV1Api(kube(sandbox, "dev")).delete_namespaced_role(
        "quota-editor", "vision"
    )
