"""kubectl 1.32 as people use it: typed `create` commands (protobuf bodies), `scale`, `explain`,
`auth whoami` and `auth can-i --list`, enum validation and quota refusals."""

from __future__ import annotations

from kubernetes import client

from sandbox.controllers import quota
from sandbox.k8s import ClusterApi
from tests.sandbox.k8s.kube_env import CLUSTER, KubeEnv
from tests.sandbox.k8s.test_k8s_kubectl import CRD

BAD_PULL_POLICY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: odd, namespace: team-a}
spec:
  selector: {matchLabels: {app: odd}}
  template:
    metadata: {labels: {app: odd}}
    spec:
      containers: [{name: main, image: nginx:1.27, imagePullPolicy: Sometimes}]
"""
GPU_POD = """
apiVersion: v1
kind: Pod
metadata: {name: trainer, namespace: team-a}
spec:
  containers:
  - name: main
    image: trainer:1
    resources:
      limits: {nvidia.com/gpu: 2, memory: 1536Mi}
"""


def test_typed_creates_scale_and_enums(kube: KubeEnv) -> None:
    kube.kubectl("create", "namespace", "team-a")
    ns = ("-n", "team-a")
    created = kube.kubectl("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", *ns)
    assert created.stdout.strip() == "deployment.apps/web created"
    kube.kubectl("create", "service", "clusterip", "web", "--tcp=80:8080", *ns)
    kube.kubectl("create", "job", "once", "--image=busybox:1.36", *ns, "--", "echo", "hi")

    apps = client.AppsV1Api(kube.api())
    web = apps.read_namespaced_deployment("web", "team-a")
    assert web.spec.replicas == 2 and web.spec.selector.match_labels == {"app": "web"}
    assert web.spec.strategy.type == "RollingUpdate"
    assert [(c.name, c.image) for c in web.spec.template.spec.containers] == [
        ("nginx", "nginx:1.27")
    ]
    port = client.CoreV1Api(kube.api()).read_namespaced_service("web", "team-a").spec.ports[0]
    assert (port.name, port.port, port.target_port, port.protocol) == ("80-8080", 80, 8080, "TCP")
    job = client.BatchV1Api(kube.api()).read_namespaced_job("once", "team-a")
    uid = job.metadata.uid
    assert job.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert job.spec.template.metadata.labels["batch.kubernetes.io/job-name"] == "once"
    assert job.spec.template.spec.containers[0].command == ["echo", "hi"]
    assert (job.spec.template.spec.restart_policy, job.spec.backoff_limit) == ("Never", 6)

    scaled = kube.kubectl("scale", "deployment", "web", "--replicas=3", *ns)
    assert scaled.stdout.strip() == "deployment.apps/web scaled"
    web = apps.read_namespaced_deployment("web", "team-a")
    assert web.spec.replicas == 3
    by_scale = [
        (m.manager, m.fields_v1) for m in web.metadata.managed_fields if m.subresource == "scale"
    ]
    assert by_scale == [("kubectl", {"f:spec": {"f:replicas": {}}})]
    stale = kube.kubectl(
        "scale", "deployment", "web", "--current-replicas=2", "--replicas=1", *ns, check=False
    )
    assert stale.returncode == 1 and "Expected replicas to be 2, was 3" in stale.stderr
    scale = apps.read_namespaced_deployment_scale("web", "team-a")
    assert (scale.spec.replicas, scale.status.selector) == (3, "app=web")

    refused = kube.kubectl("apply", "-f", "-", stdin=BAD_PULL_POLICY, check=False)
    assert refused.returncode == 1
    assert (
        'The Deployment "odd" is invalid: spec.template.spec.containers[0].imagePullPolicy: '
        'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'
    ) in refused.stderr


def test_explain_whoami_and_rules(kube: KubeEnv) -> None:
    replicas = kube.kubectl("explain", "deployment.spec.replicas").stdout
    assert "FIELD: replicas <integer>" in replicas and "Number of desired pods." in replicas
    policy = kube.kubectl("explain", "pods.spec.containers.imagePullPolicy").stdout
    assert "ENUM:\n    Always\n    IfNotPresent\n    Never" in policy
    kube.kubectl("apply", "--server-side", "-f", "-", stdin=CRD)
    kube.kubectl("wait", "--for=condition=Established", "crd/rayclusters.ray.io")
    custom = kube.kubectl("explain", "rayclusters").stdout
    assert "KIND:       RayCluster" in custom and "metadata\t<ObjectMeta>" in custom
    assert "rayVersion\t<string>" in kube.kubectl("explain", "rayclusters.spec").stdout

    me = kube.kubectl("auth", "whoami").stdout.splitlines()
    assert me[1].split() == ["Username", "admin@sandbox"]
    alice = kube.user("alice@example.com", ("ml-team",))
    her = kube.kubectl("auth", "whoami", token=alice).stdout.splitlines()
    assert her[1:] == [
        "Username    alice@example.com",
        "Groups      [ml-team system:authenticated]",
    ]

    kube.kubectl("create", "namespace", "team-a")
    listed = ("auth", "can-i", "--list", "-n", "team-a")
    before = kube.kubectl(*listed, token=alice).stdout
    assert "selfsubjectreviews.authentication.k8s.io" in before and "\npods " not in before
    kube.kubectl(
        "create", "rolebinding", "edit", "--clusterrole=edit", "--group=ml-team", "-n", "team-a"
    )
    rows = {
        line.split()[0]: line.split()[1:]
        for line in kube.kubectl(*listed, token=alice).stdout.splitlines()
    }
    assert rows["deployments.apps/scale"][:4] == ["[]", "[]", "[create", "delete"]
    elsewhere = kube.kubectl("auth", "can-i", "--list", "-n", "default", token=alice).stdout
    assert "deployments.apps" not in elsewhere


def test_quota_refusal_prints_quantities_as_kubernetes(kube: KubeEnv) -> None:
    rt = kube.sandbox.rt
    ClusterApi(rt, CLUSTER).admission(quota.admission(rt, CLUSTER))
    kube.kubectl("create", "namespace", "team-a")
    kube.kubectl(
        "create",
        "quota",
        "team-quota",
        "--hard=requests.nvidia.com/gpu=1,limits.memory=1Gi,pods=10",
        "-n",
        "team-a",
    )
    refused = kube.kubectl("apply", "-f", "-", stdin=GPU_POD, check=False)
    assert refused.returncode == 1
    assert (
        'pods "trainer" is forbidden: exceeded quota: team-quota, '
        "requested: limits.memory=1536Mi,requests.nvidia.com/gpu=2, "
        "used: limits.memory=0,requests.nvidia.com/gpu=0, "
        "limited: limits.memory=1Gi,requests.nvidia.com/gpu=1"
    ) in refused.stderr
