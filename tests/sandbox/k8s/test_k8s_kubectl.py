"""kubectl 1.32 against the gateway, with its default strict field validation."""

from __future__ import annotations

import base64
import threading
import time

from kubernetes import client

from sandbox.k8s import ClusterApi
from tests.sandbox.k8s.kube_env import CLUSTER, KubeEnv

APP = """
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: team-a
data:
  mode: fast
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team-a
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
"""
UNKNOWN_FIELD = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: typo
  namespace: team-a
dta:
  mode: slow
"""
CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rayclusters.ray.io
spec:
  group: ray.io
  scope: Namespaced
  names: {plural: rayclusters, singular: raycluster, kind: RayCluster}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              rayVersion: {type: string}
            x-kubernetes-preserve-unknown-fields: true
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
RAY = """
apiVersion: ray.io/v1
kind: RayCluster
metadata:
  name: ray
  namespace: team-a
spec:
  rayVersion: "{version}"
"""
ALICE_EDITS = """
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: alice-edit
  namespace: team-a
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice@example.com}
"""


def test_get_apply_and_strict_validation(kube: KubeEnv) -> None:
    namespaces = kube.kubectl("get", "ns", "-o", "name").stdout.split()
    assert namespaces == [
        "namespace/default",
        "namespace/kube-node-lease",
        "namespace/kube-public",
        "namespace/kube-system",
    ]
    first = kube.kubectl("apply", "-f", "-", stdin=APP).stdout
    assert "deployment.apps/web created" in first and "configmap/settings created" in first
    again = kube.kubectl("apply", "-f", "-", stdin=APP).stdout
    assert "deployment.apps/web unchanged" in again
    changed = kube.kubectl("apply", "-f", "-", stdin=APP.replace("nginx:1.27", "nginx:1.28"))
    assert "deployment.apps/web configured" in changed.stdout
    image = kube.kubectl(
        "get",
        "deploy",
        "web",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    )
    assert image.stdout == "nginx:1.28"
    table = kube.kubectl("get", "deploy", "-n", "team-a").stdout
    assert table.split("\n")[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    # two pods made (UP-TO-DATE 2), none running: this sandbox has no kubelets (controllers)
    assert table.split("\n")[1].split()[:4] == ["web", "0/2", "2", "0"]

    rejected = kube.kubectl("apply", "-f", "-", stdin=UNKNOWN_FIELD, check=False)
    assert rejected.returncode != 0
    assert 'strict decoding error: unknown field "dta"' in rejected.stderr
    missing = kube.kubectl("get", "cm", "typo", "-n", "team-a", check=False)
    assert 'Error from server (NotFound): configmaps "typo" not found' in missing.stderr

    kube.kubectl("delete", "cm", "settings", "-n", "team-a")
    gone = kube.kubectl("get", "cm", "-n", "team-a", "-o", "name").stdout.split()
    assert "configmap/settings" not in gone


def test_server_side_apply_crd_wait_and_custom_objects(kube: KubeEnv) -> None:
    kube.kubectl("create", "namespace", "team-a")
    applied = kube.kubectl("apply", "--server-side", "-f", "-", stdin=CRD).stdout
    assert "rayclusters.ray.io serverside-applied" in applied
    waited = kube.kubectl(
        "wait", "--for=condition=Established", "crd/rayclusters.ray.io", "--timeout=20s"
    )
    assert "condition met" in waited.stdout
    assert "rayclusters" in kube.kubectl("api-resources", "--api-group=ray.io").stdout

    kube.kubectl("apply", "--server-side", "-f", "-", stdin=RAY.format(version="2.9.0"))
    conflict = kube.kubectl(
        "apply",
        "--server-side",
        "--field-manager=other",
        "-f",
        "-",
        stdin=RAY.format(version="2.10.0"),
        check=False,
    )
    assert conflict.returncode != 0 and 'conflict with "kubectl"' in conflict.stderr
    kube.kubectl(
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        "-",
        stdin=RAY.format(version="2.10.0"),
    )
    shown = kube.kubectl("get", "raycluster", "ray", "-n", "team-a", "-o", "yaml").stdout
    assert "rayVersion: 2.10.0" in shown
    custom = client.CustomObjectsApi(kube.api())
    obj = custom.get_namespaced_custom_object("ray.io", "v1", "team-a", "rayclusters", "ray")
    assert [m["manager"] for m in obj["metadata"]["managedFields"]] == ["other"]

    # kubectl wait holds a watch over TLS until a controller reports the condition.
    ready = {"conditions": [{"type": "Ready", "status": "True", "reason": "Up"}]}
    api = ClusterApi(kube.sandbox.rt, CLUSTER)
    timer = threading.Timer(
        1.5, lambda: api.patch_status("ray.io/v1", "RayCluster", "ray", ready, namespace="team-a")
    )
    timer.start()
    started = time.monotonic()
    waited = kube.kubectl(
        "wait", "--for=condition=Ready", "raycluster/ray", "-n", "team-a", "--timeout=20s"
    )
    timer.join()
    assert "condition met" in waited.stdout and 1.4 < time.monotonic() - started < 15


def test_big_crds_need_server_side_apply(kube: KubeEnv) -> None:
    big = CRD.replace(
        "rayVersion: {type: string}",
        "rayVersion: {type: string, description: " + "x" * 300_000 + "}",
    )
    client_side = kube.kubectl("apply", "-f", "-", stdin=big, check=False)
    assert client_side.returncode != 0
    assert "metadata.annotations: Too long: must have at most 262144 bytes" in client_side.stderr
    assert (
        "serverside-applied" in kube.kubectl("apply", "--server-side", "-f", "-", stdin=big).stdout
    )


def test_auth_can_i_follows_rbac(kube: KubeEnv) -> None:
    kube.kubectl("create", "namespace", "team-a")
    alice = ("auth", "can-i", "create", "pods", "-n", "team-a", "--as", "alice@example.com")
    before = kube.kubectl(*alice, check=False)
    assert before.returncode == 1 and before.stdout.strip() == "no"
    kube.kubectl("apply", "-f", "-", stdin=ALICE_EDITS)
    after = kube.kubectl(*alice)
    assert after.stdout.strip() == "yes"
    elsewhere = kube.kubectl(
        "auth", "can-i", "create", "pods", "-n", "default", "--as", "alice@example.com", check=False
    )
    assert elsewhere.stdout.strip() == "no"

    token = kube.user("alice@example.com")
    forbidden = kube.kubectl("get", "secrets", "-n", "default", token=token, check=False)
    assert "Error from server (Forbidden)" in forbidden.stderr
    assert kube.kubectl("get", "pods", "-n", "team-a", token=token).returncode == 0


def test_create_secret_generic(kube: KubeEnv) -> None:
    kube.kubectl("create", "namespace", "config-management-system")
    created = kube.kubectl(
        "create",
        "secret",
        "generic",
        "git-creds",
        "--from-literal=username=u",
        "--from-literal=token=t",
        "-n",
        "config-management-system",
    )
    assert "secret/git-creds created" in created.stdout
    secret = client.CoreV1Api(kube.api()).read_namespaced_secret(
        "git-creds", "config-management-system"
    )
    decoded = {key: base64.b64decode(value).decode() for key, value in secret.data.items()}
    assert decoded == {"username": "u", "token": "t"} and secret.type == "Opaque"
    again = kube.kubectl(
        "create",
        "secret",
        "generic",
        "git-creds",
        "--from-literal=username=u",
        "-n",
        "config-management-system",
        check=False,
    )
    assert again.returncode == 1 and 'secrets "git-creds" already exists' in again.stderr
