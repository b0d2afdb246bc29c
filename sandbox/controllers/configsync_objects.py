"""What Config Sync puts in a cluster: its namespace, CRDs, reconciler manager, the reconcilers
(a ServiceAccount and a Deployment each, with their RBAC) and the fleet-managed `root-sync`."""

from __future__ import annotations

from typing import Any

from sandbox.controllers.applier import SYSTEM_NAMESPACE, Reconciler
from sandbox.controllers.crd_manifests import crd

Obj = dict[str, Any]
GROUP = "configsync.gke.io"
API_VERSION = f"{GROUP}/v1beta1"
ROOT_SYNC = "root-sync"
NS_RECONCILER_ROLE = "configsync.gke.io:ns-reconciler"
SYSTEM_LABELS = {"configmanagement.gke.io/system": "true"}
IMAGE = "gcr.io/config-management-release"
_SYNC_COLUMNS = (
    ("RenderingCommit", ".status.rendering.commit"),
    ("RenderingErrorCount", ".status.rendering.errorSummary.totalCount"),
    ("SourceCommit", ".status.source.commit"),
    ("SourceErrorCount", ".status.source.errorSummary.totalCount"),
    ("SyncCommit", ".status.sync.commit"),
    ("SyncErrorCount", ".status.sync.errorSummary.totalCount"),
)


def deployment(name: str, namespace: str, service_account: str, containers: list[Obj]) -> Obj:
    """A single-replica Deployment of system containers."""
    labels = {"app": name, **SYSTEM_LABELS}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"serviceAccountName": service_account, "containers": containers},
            },
        },
    }


def _container(name: str, image: str, version: str) -> Obj:
    return {
        "name": name,
        "image": f"{IMAGE}/{image}:v{version}",
        "resources": {"requests": {"cpu": "10m", "memory": "100Mi"}},
    }


def _account(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": SYSTEM_NAMESPACE, "labels": SYSTEM_LABELS},
    }


def base_objects(version: str) -> list[Obj]:
    """The namespace, the CRDs, the reconciler manager, and the namespace reconcilers' role."""
    sync_crds = [
        crd(
            GROUP,
            kind,
            plural,
            ["v1alpha1", "v1beta1"],
            columns=_SYNC_COLUMNS,
            labels=SYSTEM_LABELS,
        )
        for kind, plural in (("RootSync", "rootsyncs"), ("RepoSync", "reposyncs"))
    ]
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": SYSTEM_NAMESPACE, "labels": SYSTEM_LABELS},
        },
        *sync_crds,
        crd("kpt.dev", "ResourceGroup", "resourcegroups", ["v1alpha1"], labels=SYSTEM_LABELS),
        _account("reconciler-manager"),
        deployment(
            "reconciler-manager",
            SYSTEM_NAMESPACE,
            "reconciler-manager",
            [_container("reconciler-manager", "reconciler-manager", version)],
        ),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": NS_RECONCILER_ROLE, "labels": SYSTEM_LABELS},
            "rules": [
                {
                    "apiGroups": [GROUP],
                    "resources": ["reposyncs"],
                    "verbs": ["get", "list", "watch"],
                },
                {
                    "apiGroups": [GROUP],
                    "resources": ["reposyncs/status"],
                    "verbs": ["get", "patch", "update"],
                },
                {
                    "apiGroups": ["kpt.dev"],
                    "resources": ["resourcegroups", "resourcegroups/status"],
                    "verbs": ["*"],
                },
                {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
            ],
        },
    ]


def reconciler_objects(who: Reconciler, version: str) -> list[Obj]:
    """A reconciler's ServiceAccount, Deployment and binding (cluster-admin for RootSyncs; for a
    RepoSync only its own RepoSync and inventory: other permissions come from RoleBindings)."""
    name = who.service_account
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": SYSTEM_NAMESPACE}]
    if who.root:
        binding: Obj = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"configsync.gke.io:{name}", "labels": SYSTEM_LABELS},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": subject,
        }
    else:
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {
                "name": f"configsync.gke.io:{name}",
                "namespace": who.namespace,
                "labels": SYSTEM_LABELS,
            },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": NS_RECONCILER_ROLE,
            },
            "subjects": subject,
        }
    containers = [
        _container("reconciler", "reconciler", version),
        _container("git-sync", "git-sync", version),
        _container("otel-agent", "otelcontribcol", version),
    ]
    return [_account(name), deployment(name, SYSTEM_NAMESPACE, name, containers), binding]


def root_sync(spec: Obj) -> Obj:
    """The RootSync `root-sync` the fleet's configmanagement spec (`configSync`) declares."""
    git = spec.get("git") or {}
    source: Obj = {
        "repo": git.get("syncRepo", ""),
        "branch": git.get("syncBranch") or "master",
        "revision": git.get("syncRev") or "HEAD",
        "dir": git.get("policyDir") or ".",
        "auth": git.get("secretType") or "none",
    }
    if source["auth"] in ("token", "ssh", "cookiefile"):
        source["secretRef"] = {"name": "git-creds"}
    if git.get("syncWaitSecs"):
        source["period"] = f"{int(git['syncWaitSecs'])}s"
    return {
        "apiVersion": API_VERSION,
        "kind": "RootSync",
        "metadata": {"name": ROOT_SYNC, "namespace": SYSTEM_NAMESPACE, "labels": SYSTEM_LABELS},
        "spec": {
            "sourceFormat": spec.get("sourceFormat") or "hierarchy",
            "sourceType": "git",
            "git": source,
        },
    }
