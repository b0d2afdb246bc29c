"""A team's space on one cluster, as hydrated manifests for the RootSync: its namespace, roles
for its real members, quota and default limits, network isolation, its RepoSync with a
reconciler that may do only what the team's apps need, and its workload service account."""

from __future__ import annotations

from typing import Any

from mlplat.render.desired import MANAGED_BY_VALUE, PART_OF_LABEL
from mlplat.specs import Environment, Platform, Team, naming
from mlplat.specs.models import Members

Manifest = dict[str, Any]

TEAM_LABEL = "mlplat.dev/team"
RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC = f"{RBAC_GROUP}/v1"
RAY_RESOURCES = ["rayclusters", "rayjobs", "rayservices"]
READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete"]

# What each role may do in the team's namespace (and nothing outside it).
_VIEW_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [""],
        "resources": [
            "pods",
            "pods/log",
            "services",
            "configmaps",
            "events",
            "resourcequotas",
            "limitranges",
            "serviceaccounts",
        ],
        "verbs": READ,
    },
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": READ},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": READ},
    {"apiGroups": ["ray.io"], "resources": RAY_RESOURCES, "verbs": READ},
]
_DEVELOP_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": WRITE},
    {"apiGroups": [""], "resources": ["pods/exec", "pods/portforward"], "verbs": ["create"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": WRITE},
    {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": WRITE},
    {"apiGroups": ["ray.io"], "resources": RAY_RESOURCES, "verbs": WRITE},
]
_ADMIN_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": READ + WRITE},
    {
        "apiGroups": [RBAC_GROUP],
        "resources": ["roles", "rolebindings"],
        "verbs": READ + WRITE,
    },
]
ROLE_RULES = {
    "viewer": _VIEW_RULES,
    "developer": _VIEW_RULES + _DEVELOP_RULES,
    "admin": _VIEW_RULES + _DEVELOP_RULES + _ADMIN_RULES,
}
RECONCILER_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["ray.io"], "resources": RAY_RESOURCES, "verbs": READ + WRITE},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": READ + WRITE},
    {"apiGroups": [""], "resources": ["services", "configmaps"], "verbs": READ + WRITE},
]


def labels(team: Team) -> dict[str, str]:
    return {TEAM_LABEL: team.name, PART_OF_LABEL: MANAGED_BY_VALUE}


def workload_service_account(team: Team) -> str:
    """The Kubernetes service account the team's Ray and notebook pods run as."""
    return f"{team.name}-workloads"


def _meta(name: str, team: Team, namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels(team)}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def _subjects(members: Members) -> list[dict[str, str]]:
    return [{"apiGroup": RBAC_GROUP, "kind": "User", "name": u} for u in members.users] + [
        {"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in members.groups
    ]


def space(
    platform: Platform, env: Environment, team: Team, *, project: str, repo_url: str
) -> list[Manifest]:
    """Everything of the team that the platform's RootSync applies on this environment."""
    ns = team.namespace_name
    manifests: list[Manifest] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, team)},
    ]
    for role, rules in ROLE_RULES.items():
        members: Members = getattr(team.members, role)
        manifests.append(
            {
                "apiVersion": RBAC,
                "kind": "Role",
                "metadata": _meta(f"{team.name}-{role}", team, ns),
                "rules": rules,
            }
        )
        if members.users or members.groups:
            manifests.append(
                {
                    "apiVersion": RBAC,
                    "kind": "RoleBinding",
                    "metadata": _meta(f"{team.name}-{role}s", team, ns),
                    "roleRef": {
                        "apiGroup": RBAC_GROUP,
                        "kind": "Role",
                        "name": f"{team.name}-{role}",
                    },
                    "subjects": _subjects(members),
                }
            )
    manifests += [_quota(team), _limits(team), *_network_policies(team)]
    manifests += _repo_sync(env, team, repo_url)
    manifests.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                **_meta(workload_service_account(team), team, ns),
                "annotations": {
                    "iam.gke.io/gcp-service-account": naming.service_account_email(
                        naming.team_service_account_id(platform, env, team), project
                    )
                },
            },
        }
    )
    return manifests


def _quota(team: Team) -> Manifest:
    q = team.quota
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _meta("team-quota", team, team.namespace_name),
        "spec": {
            "hard": {
                "requests.cpu": q.cpu,
                "requests.memory": q.memory,
                "requests.nvidia.com/gpu": str(q.gpu),
                "pods": str(q.pods),
            }
        },
    }


def _limits(team: Team) -> Manifest:
    """Defaults for containers that set no resources, so the quota can account for them."""
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _meta("team-defaults", team, team.namespace_name),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {"cpu": "500m", "memory": "1Gi"},
                    "default": {"cpu": "2", "memory": "4Gi"},
                }
            ]
        },
    }


def _network_policies(team: Team) -> list[Manifest]:
    """Ingress only from the namespace itself (Ray head ↔ workers, notebook ↔ Ray) and from
    the KubeRay operator to the Ray dashboard; egress (DNS, registries) stays open."""
    ns = team.namespace_name
    return [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("deny-from-other-namespaces", team, ns),
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {}}]}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("allow-kuberay-operator", team, ns),
            "spec": {
                "podSelector": {"matchLabels": {"ray.io/node-type": "head"}},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "kuberay-system"}
                                }
                            }
                        ],
                        "ports": [{"protocol": "TCP", "port": 8265}],
                    }
                ],
            },
        },
    ]


def _repo_sync(env: Environment, team: Team, repo_url: str) -> list[Manifest]:
    """The team's RepoSync and the only permissions its reconciler gets."""
    ns = team.namespace_name
    reconciler = naming.reconciler_name(ns, naming.REPOSYNC_NAME)
    return [
        {
            "apiVersion": "configsync.gke.io/v1beta1",
            "kind": "RepoSync",
            "metadata": _meta(naming.REPOSYNC_NAME, team, ns),
            "spec": {
                "sourceType": "git",
                "sourceFormat": "unstructured",
                "git": {
                    "repo": repo_url,
                    "branch": naming.config_sync_branch(env),
                    "dir": naming.team_apps_dir(team),
                    "auth": "token",
                    "secretRef": {"name": naming.GIT_CREDS_SECRET},
                },
            },
        },
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": _meta("repo-sync-reconciler", team, ns),
            "rules": RECONCILER_RULES,
        },
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": _meta("repo-sync-reconciler", team, ns),
            "roleRef": {
                "apiGroup": RBAC_GROUP,
                "kind": "Role",
                "name": "repo-sync-reconciler",
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": reconciler,
                    "namespace": naming.CONFIG_MANAGEMENT_NAMESPACE,
                }
            ],
        },
    ]
