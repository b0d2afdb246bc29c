"""The controllers' pure rules: reading manifests, Config Sync's validation and naming,
Gatekeeper's match and library rules, quantities, scheduling against node pools, the operator's
watched namespaces, durations and status patches."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.controllers.applier import Reconciler
from sandbox.controllers.gatekeeper_match import matches
from sandbox.controllers.gatekeeper_rules import violations
from sandbox.controllers.kuberay_operator import watched_namespaces
from sandbox.controllers.manifests import parse_files, validate
from sandbox.controllers.pool_capacity import Capacity, Pool, Taint, unschedulable
from sandbox.controllers.quantities import parse_quantity, pod_resources
from sandbox.controllers.settings import parse_duration
from sandbox.controllers.statuspatch import merge_diff

KINDS = {("v1", "ConfigMap"): True, ("v1", "Namespace"): False}


def _scope(api_version: str, kind: str) -> bool | None:
    return KINDS.get((api_version, kind))


def test_manifests_are_read_from_yaml_json_and_lists() -> None:
    files = {
        "c/a.yaml": b"apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n---\n---\n"
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "c/b.json": b'{"apiVersion": "v1", "kind": "List", "items": '
        b'[{"apiVersion": "v1", "kind": "ConfigMap", '
        b'"metadata": {"name": "d", "namespace": "x"}}]}',
        "c/skip.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n  annotations:\n"
        b"    configmanagement.gke.io/managed: disabled\n",
        "c/README.md": b"# not a manifest",
        "c/.github/ci.yaml": b"on: push",
        "c/bad.yaml": b"kind: [",
        "c/nameless.yml": b"apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
    }
    declared, errors = parse_files(files)
    assert [(d.kind, d.name, d.path) for d in declared if d.managed] == [
        ("Namespace", "n", "c/a.yaml"),
        ("ConfigMap", "c", "c/a.yaml"),
        ("ConfigMap", "d", "c/b.json"),
    ]
    assert [d.name for d in declared if not d.managed] == ["s"]  # let go of, not applied
    assert [e.code for e in errors] == ["2001", "2010"]
    assert "path: c/bad.yaml" in errors[0].text()
    assert 'missing field "metadata.name"' in errors[1].text()
    assert errors[1].text().endswith("https://g.co/cloud/acm-errors#knv2010")

    declared = [d for d in declared if d.managed]
    valid, problems = validate(declared, _scope)
    assert not problems
    assert [(d.namespace, d.resource_id()) for d in valid] == [
        ("", "_namespace_n"),
        ("default", "_configmap_default_c"),
        ("x", "_configmap_x_d"),
    ]
    valid, problems = validate(declared, _scope, "team")
    assert [(d.kind, d.namespace) for d in valid] == [("ConfigMap", "team")]
    assert [p.code for p in problems] == ["1058", "1058"]


def test_unknown_kinds_unless_a_crd_of_the_source_declares_them() -> None:
    widget = b"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\n"
    crd = (
        b"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        b"metadata: {name: widgets.example.com}\nspec:\n  group: example.com\n"
        b"  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n"
        b"  versions: [{name: v1, served: true, storage: true}]\n"
    )
    scopes = {**KINDS, ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): False}
    declared, _ = parse_files({"w.yaml": widget})
    _, problems = validate(declared, lambda v, k: scopes.get((v, k)))
    assert [p.code for p in problems] == ["1021"]
    assert '"Widget.example.com"' in problems[0].message
    declared, _ = parse_files({"w.yaml": widget, "crd.yaml": crd})
    valid, problems = validate(declared, lambda v, k: scopes.get((v, k)))
    assert not problems and len(valid) == 2


@pytest.mark.parametrize(
    ("root", "namespace", "name", "account"),
    [
        (True, "config-management-system", "root-sync", "root-reconciler"),
        (True, "config-management-system", "extra", "root-reconciler-extra"),
        (False, "team-a", "repo-sync", "ns-reconciler-team-a"),
        (False, "team-a", "dev-team-a", "ns-reconciler-team-a-dev-team-a-10"),
    ],
)
def test_reconciler_names(root: bool, namespace: str, name: str, account: str) -> None:
    assert Reconciler(root, namespace, name).service_account == account


def _pod(labels: dict[str, str] | None = None, **container: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "team-a", "labels": labels or {}},
        "spec": {"containers": [{"name": "main", "image": "gcr.io/x/y:1", **container}]},
    }


def _constraint(kind: str, parameters: dict[str, Any], **match: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": "c"},
        "spec": {"match": match, "parameters": parameters},
    }


def test_gatekeeper_library_rules() -> None:
    labels = _constraint(
        "K8sRequiredLabels",
        {"labels": [{"key": "team"}, {"key": "env", "allowedRegex": "^(dev|prod)$"}]},
    )
    assert violations(labels, _pod({"team": "a", "env": "dev"})) == []
    assert violations(labels, _pod({"env": "qa"})) == [
        'you must provide labels: {"team"}',
        "Label <env: qa> does not satisfy allowed regex: ^(dev|prod)$",
    ]
    repos = _constraint("K8sAllowedRepos", {"repos": ["gcr.io/x/"]})
    assert violations(repos, _pod()) == []
    assert violations(repos, _pod(image="docker.io/evil")) == [
        "container <main> has an invalid image repo <docker.io/evil>, "
        'allowed repos are ["gcr.io/x/"]'
    ]
    privileged = _constraint("K8sPSPPrivilegedContainer", {"exemptImages": ["gcr.io/safe/*"]})
    pod = _pod(securityContext={"privileged": True})
    pod["spec"]["initContainers"] = [
        {"name": "init", "image": "gcr.io/safe/i", "securityContext": {"privileged": True}}
    ]
    assert violations(privileged, pod) == [
        'Privileged container is not allowed: main, securityContext: {"privileged": true}'
    ]
    assert violations(privileged, {**pod, "kind": "RayCluster"}) == []  # only Pods have containers
    assert violations(_constraint("K8sUnknown", {}), pod) == []


def test_gatekeeper_match() -> None:
    namespaces = {
        "team-a": {"tier": "ml"},
        "gatekeeper-system": {"admission.gatekeeper.sh/ignore": "x"},
    }
    lookup = namespaces.get
    pod = _pod({"app": "ray"})
    pods = [{"apiGroups": [""], "kinds": ["Pod"]}]
    assert matches(_constraint("K", {}, kinds=pods), pod, lookup)
    assert not matches(
        _constraint("K", {}, kinds=[{"apiGroups": ["ray.io"], "kinds": ["*"]}]), pod, lookup
    )
    assert matches(_constraint("K", {}, namespaces=["team-*"]), pod, lookup)
    assert not matches(_constraint("K", {}, excludedNamespaces=["*-a"]), pod, lookup)
    assert matches(
        _constraint("K", {}, namespaceSelector={"matchLabels": {"tier": "ml"}}), pod, lookup
    )
    assert not matches(
        _constraint("K", {}, labelSelector={"matchLabels": {"app": "web"}}), pod, lookup
    )
    assert not matches(_constraint("K", {}, scope="Cluster"), pod, lookup)
    ignored = {**pod, "metadata": {**pod["metadata"], "namespace": "gatekeeper-system"}}
    assert not matches(_constraint("K", {}), ignored, lookup)
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "r"},
    }
    assert not matches(_constraint("K", {}, namespaces=["team-a"]), role, lookup)
    assert matches(_constraint("K", {}, excludedNamespaces=["team-a"]), role, lookup)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
    assert matches(_constraint("K", {}, namespaces=["team-a"]), namespace, lookup)


def test_quantities_and_pod_requests() -> None:
    assert parse_quantity("100m") == pytest.approx(0.1)
    assert parse_quantity("2Gi") == 2 * 2**30
    assert parse_quantity("20G") == 20e9
    assert parse_quantity(3) == 3.0
    with pytest.raises(ValueError):
        parse_quantity("lots")
    spec = {
        "containers": [
            {"resources": {"requests": {"cpu": "500m"}, "limits": {"nvidia.com/gpu": "1"}}},
            {"resources": {"requests": {"cpu": "1"}}},
        ],
        "initContainers": [{"resources": {"requests": {"cpu": "4"}}}],
    }
    assert pod_resources(spec) == {"cpu": 4.0, "nvidia.com/gpu": 1.0}


GPU_TAINT = Taint("nvidia.com/gpu", "present", "NoSchedule")
POOLS = (
    Pool("system", {"cloud.google.com/gke-nodepool": "system"}, (), 0, 4.0),
    Pool(
        "l4-spot",
        {"cloud.google.com/gke-accelerator": "nvidia-l4", "cloud.google.com/gke-spot": "true"},
        (GPU_TAINT, Taint("reserved", "", "NoSchedule")),
        2,
        24.0,
    ),
)


def _spec(cpu: str = "1", gpu: str = "", **extra: Any) -> dict[str, Any]:
    requests = {"cpu": cpu, **({"nvidia.com/gpu": gpu} if gpu else {})}
    return {"containers": [{"name": "c", "resources": {"requests": requests}}], **extra}


def test_scheduling_against_node_pools() -> None:
    fixed = Capacity(POOLS)
    assert unschedulable(fixed, _spec()) == ""
    assert unschedulable(fixed, _spec(cpu="8")) == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{nvidia.com/gpu: present}."
    )
    spot = {"cloud.google.com/gke-spot": "true"}
    reserved = [{"key": "reserved", "operator": "Exists"}]
    assert "untolerated taint {reserved: }" in unschedulable(
        fixed, _spec(gpu="1", nodeSelector=spot)
    )
    assert unschedulable(fixed, _spec(gpu="1", nodeSelector=spot, tolerations=reserved)) == ""
    assert "Insufficient nvidia.com/gpu" in unschedulable(
        fixed, _spec(gpu="4", tolerations=reserved)
    )
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {
                                "key": "cloud.google.com/gke-nodepool",
                                "operator": "In",
                                "values": ["system"],
                            }
                        ]
                    }
                ]
            }
        }
    }
    assert unschedulable(fixed, _spec(gpu="1", affinity=affinity, tolerations=reserved)).startswith(
        "0/2"
    )
    assert unschedulable(None, _spec(gpu="8")) == ""  # not a GKE cluster
    nap = Capacity((POOLS[0],), {"cpu": 64.0, "nvidia-l4": 8.0})
    h100 = {"cloud.google.com/gke-accelerator": "nvidia-h100-80gb"}
    assert (
        unschedulable(
            nap, _spec(gpu="1", nodeSelector={"cloud.google.com/gke-accelerator": "nvidia-l4"})
        )
        == ""
    )
    assert unschedulable(nap, _spec(gpu="1")).endswith(
        "pod didn't trigger scale-up: node auto-provisioning needs a "
        "cloud.google.com/gke-accelerator node selector for GPU pods"
    )
    assert "nvidia-h100-80gb is not within" in unschedulable(nap, _spec(gpu="1", nodeSelector=h100))


def test_watched_namespaces_and_durations() -> None:
    def operator(*args: str) -> dict[str, Any]:
        container = {"name": "op", "args": list(args)}
        return {"spec": {"template": {"spec": {"containers": [container]}}}}

    assert watched_namespaces(operator("--watch-namespace=a,b")) == {"a", "b"}
    assert watched_namespaces(operator("--watch-namespace", "c")) == {"c"}
    assert watched_namespaces(operator("--watch-namespace=")) is None
    assert watched_namespaces(operator("--log-level=info")) is None
    assert parse_duration("15s") == 15.0
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("500ms") == 0.5
    assert parse_duration("junk") == 15.0
    assert parse_duration(None, 7.0) == 7.0


def test_merge_diff_removes_what_went() -> None:
    old = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}
    new = {"a": 1, "b": {"c": 4}, "e": [2]}
    assert merge_diff(old, new) == {"b": {"c": 4, "d": None}, "e": [2]}
