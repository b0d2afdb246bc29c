"""The ClusterRoles and ClusterRoleBindings every cluster starts with (approximately upstream's).

`cluster-admin`, `admin`, `edit`, `view` (without aggregation), and the discovery roles bound to
`system:authenticated`.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_CORE_VIEW = [
    "configmaps",
    "endpoints",
    "persistentvolumeclaims",
    "persistentvolumeclaims/status",
    "pods",
    "replicationcontrollers",
    "replicationcontrollers/scale",
    "serviceaccounts",
    "services",
    "services/status",
    "bindings",
    "events",
    "limitranges",
    "namespaces/status",
    "pods/log",
    "pods/status",
    "replicationcontrollers/status",
    "resourcequotas",
    "resourcequotas/status",
    "namespaces",
]
_APPS = [
    "controllerrevisions",
    "daemonsets",
    "daemonsets/status",
    "deployments",
    "deployments/scale",
    "deployments/status",
    "replicasets",
    "replicasets/scale",
    "replicasets/status",
    "statefulsets",
    "statefulsets/scale",
    "statefulsets/status",
]
_CORE_EDIT = [
    "pods",
    "pods/attach",
    "pods/exec",
    "pods/portforward",
    "pods/proxy",
    "configmaps",
    "endpoints",
    "persistentvolumeclaims",
    "replicationcontrollers",
    "replicationcontrollers/scale",
    "secrets",
    "serviceaccounts",
    "services",
    "services/proxy",
]
_GROUPED_VIEW = [
    (["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
    (["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    (["discovery.k8s.io"], ["endpointslices"]),
    (["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
    (["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
]
_GROUPED_EDIT = [
    (["apps"], [r for r in _APPS if "/status" not in r and r != "controllerrevisions"]),
    (["autoscaling"], ["horizontalpodautoscalers"]),
    (["batch"], ["cronjobs", "jobs"]),
    (["policy"], ["poddisruptionbudgets"]),
    (["networking.k8s.io"], ["ingresses", "networkpolicies"]),
]


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def _view_rules() -> list[Obj]:
    rules = [_rule([""], _CORE_VIEW, READ), _rule(["apps"], _APPS, READ)]
    rules += [_rule(groups, resources, READ) for groups, resources in _GROUPED_VIEW]
    return rules


def _edit_rules() -> list[Obj]:
    rules = [
        _rule(
            [""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets"], READ
        ),
        _rule([""], ["serviceaccounts"], ["impersonate"]),
        _rule([""], _CORE_EDIT, WRITE),
        _rule([""], ["serviceaccounts/token"], ["create"]),
    ]
    rules += [_rule(groups, resources, WRITE) for groups, resources in _GROUPED_EDIT]
    return rules + _view_rules()


def _admin_rules() -> list[Obj]:
    rbac = ["rbac.authorization.k8s.io"]
    return [
        _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
        _rule(rbac, ["rolebindings", "roles"], [*WRITE, *READ]),
        *_edit_rules(),
    ]


def _cluster_role(name: str, rules: list[Obj]) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "rules": rules,
    }


def _binding(name: str, groups: list[str]) -> Obj:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
        },
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}
            for group in groups
        ],
    }


def default_cluster_roles() -> list[Obj]:
    """ClusterRoles of a fresh cluster."""
    discovery = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz"]
    discovery += ["/openapi", "/openapi/*", "/version", "/version/"]
    reviews = ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]
    return [
        _cluster_role(
            "cluster-admin",
            [_rule(["*"], ["*"], ["*"]), {"nonResourceURLs": ["*"], "verbs": ["*"]}],
        ),
        _cluster_role("admin", _admin_rules()),
        _cluster_role("edit", _edit_rules()),
        _cluster_role("view", _view_rules()),
        _cluster_role("system:discovery", [{"nonResourceURLs": discovery, "verbs": ["get"]}]),
        _cluster_role(
            "system:public-info-viewer",
            [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version"], "verbs": ["get"]}],
        ),
        _cluster_role(
            "system:basic-user",
            [
                _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
                _rule(["authorization.k8s.io"], reviews, ["create"]),
            ],
        ),
    ]


def default_cluster_role_bindings() -> list[Obj]:
    """ClusterRoleBindings of a fresh cluster."""
    return [
        _binding("cluster-admin", ["system:masters"]),
        _binding("system:discovery", ["system:authenticated"]),
        _binding("system:basic-user", ["system:authenticated"]),
        _binding("system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
    ]
