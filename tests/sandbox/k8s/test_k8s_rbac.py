"""Authentication and RBAC with real requests: tokens, roles, access reviews, impersonation."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.sandbox.k8s.kube_env import KubeEnv

ALICE = "alice@example.com"


def _setup_team(kube: KubeEnv) -> None:
    api = kube.api()
    core = client.CoreV1Api(api)
    for name in ("team-a", "team-b"):
        core.create_namespace({"metadata": {"name": name}})
    rbac = client.RbacAuthorizationV1Api(api)
    rbac.create_namespaced_role(
        "team-a",
        {
            "metadata": {"name": "configmap-writer"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "verbs": ["get", "list", "create", "update"],
                },
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": ["only-this"],
                    "verbs": ["get"],
                },
            ],
        },
    )
    rbac.create_namespaced_role_binding(
        "team-a",
        {
            "metadata": {"name": "alice-writes"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "configmap-writer",
            },
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": ALICE}],
        },
    )


def test_a_namespace_role_allows_there_and_forbids_elsewhere(kube: KubeEnv) -> None:
    _setup_team(kube)
    alice = client.CoreV1Api(kube.api(kube.user(ALICE)))
    alice.create_namespaced_config_map("team-a", {"metadata": {"name": "mine"}})
    assert [
        c.metadata.name
        for c in alice.list_namespaced_config_map("team-a").items
        if c.metadata.name == "mine"
    ]

    with pytest.raises(ApiException) as denied:
        alice.create_namespaced_config_map("team-b", {"metadata": {"name": "theirs"}})
    status = json.loads(denied.value.body)
    assert denied.value.status == 403 and status["reason"] == "Forbidden"
    assert status["message"] == (
        f'configmaps is forbidden: User "{ALICE}" cannot create resource "configmaps" in API '
        'group "" in the namespace "team-b"'
    )
    with pytest.raises(ApiException) as named:
        alice.read_namespaced_secret("other", "team-a")
    assert json.loads(named.value.body)["message"].startswith('secrets "other" is forbidden: ')
    with pytest.raises(ApiException) as not_found:
        alice.read_namespaced_secret("only-this", "team-a")
    assert not_found.value.status == 404  # allowed by resourceNames, then simply absent
    with pytest.raises(ApiException) as cluster_scope:
        alice.list_namespace()
    assert "at the cluster scope" in json.loads(cluster_scope.value.body)["message"]


def test_access_reviews_agree_with_enforcement(kube: KubeEnv) -> None:
    _setup_team(kube)
    authz = client.AuthorizationV1Api(kube.api())

    def allowed(
        namespace: str, verb: str = "create", user: str = ALICE
    ) -> client.V1SubjectAccessReviewStatus:
        review = {
            "spec": {
                "user": user,
                "groups": ["system:authenticated"],
                "resourceAttributes": {
                    "namespace": namespace,
                    "verb": verb,
                    "resource": "configmaps",
                },
            }
        }
        return authz.create_subject_access_review(review).status

    yes = allowed("team-a")
    assert yes.allowed and yes.reason == (
        'RBAC: allowed by RoleBinding "alice-writes/team-a" of Role "configmap-writer" '
        f'to User "{ALICE}"'
    )
    assert not allowed("team-b").allowed
    assert not allowed("team-a", verb="delete").allowed

    alice_authz = client.AuthorizationV1Api(kube.api(kube.user(ALICE)))
    own = alice_authz.create_self_subject_access_review(
        {
            "spec": {
                "resourceAttributes": {
                    "namespace": "team-a",
                    "verb": "list",
                    "resource": "configmaps",
                }
            }
        }
    )
    assert own.status.allowed
    discovery = alice_authz.create_self_subject_access_review(
        {"spec": {"nonResourceAttributes": {"path": "/apis", "verb": "get"}}}
    )
    assert discovery.status.allowed


def test_cluster_role_bindings_groups_and_service_accounts(kube: KubeEnv) -> None:
    rbac = client.RbacAuthorizationV1Api(kube.api())
    client.CoreV1Api(kube.api()).create_namespace({"metadata": {"name": "team-a"}})
    rbac.create_cluster_role_binding(
        {
            "metadata": {"name": "readers-view"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "readers"}
            ],
        }
    )
    rbac.create_namespaced_role_binding(
        "team-a",
        {
            "metadata": {"name": "sa-edit"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "edit",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "deployer"}],
        },
    )
    reader = client.CoreV1Api(kube.api(kube.user("bob@example.com", ("readers",))))
    assert reader.list_namespaced_config_map("team-a").items
    with pytest.raises(ApiException) as read_only:
        reader.create_namespaced_config_map("team-a", {"metadata": {"name": "x"}})
    assert read_only.value.status == 403
    with pytest.raises(ApiException) as no_secrets:
        reader.list_namespaced_secret("team-a")
    assert no_secrets.value.status == 403

    token = kube.registry.service_account_token(
        "projects/ml-dev/locations/us-central1/clusters/ml-dev", "team-a", "deployer"
    )
    deployer = client.CoreV1Api(kube.api(token))
    deployer.create_namespaced_secret(
        "team-a", {"metadata": {"name": "s"}, "stringData": {"k": "v"}}
    )
    with pytest.raises(ApiException) as no_roles:
        client.RbacAuthorizationV1Api(kube.api(token)).create_namespaced_role(
            "team-a", {"metadata": {"name": "r"}, "rules": []}
        )
    assert no_roles.value.status == 403


def test_authentication_and_impersonation(kube: KubeEnv) -> None:
    _setup_team(kube)
    anonymous = kube.api(token="")
    anonymous.configuration.api_key = {}
    with pytest.raises(ApiException) as unauthenticated:
        client.CoreV1Api(anonymous).list_namespace()
    assert unauthenticated.value.status == 401
    with pytest.raises(ApiException) as unknown:
        client.CoreV1Api(kube.api("not-a-token")).list_namespace()
    assert unknown.value.status == 401

    admin = kube.api()
    admin.default_headers["Impersonate-User"] = ALICE
    as_alice = client.CoreV1Api(admin)
    as_alice.create_namespaced_config_map("team-a", {"metadata": {"name": "via-admin"}})
    with pytest.raises(ApiException) as denied:
        as_alice.create_namespaced_config_map("team-b", {"metadata": {"name": "x"}})
    assert f'User "{ALICE}"' in json.loads(denied.value.body)["message"]

    sneaky = kube.api(kube.user("mallory@example.com"))
    sneaky.default_headers["Impersonate-User"] = ALICE
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(sneaky).list_namespaced_config_map("team-a")
    message = json.loads(refused.value.body)["message"]
    assert refused.value.status == 403 and 'cannot impersonate resource "users"' in message
