"""A kubectl session on a provisioned environment (dev): workloads behave as on GKE, and what
an admin types besides (typed creates, scale, explain, auth, the server's refusals) works.

An allowed image runs on the pool it asked for, a denied one stays 0/N with Policy Controller's
message in its ReplicaSet's events, the team's GPU Ray worker sits on the Spot GPU pool whose
taint it tolerates, and `rollout status/history` and `get -o wide` work."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from typing import Any

import yaml

Kubectl = Callable[..., subprocess.CompletedProcess[str]]
TEAM = "vision"
POOL = "cloud.google.com/gke-nodepool"
WEBHOOK = 'admission webhook "validation.gatekeeper.sh" denied the request'


def _deployment(name: str, image: str, replicas: int) -> str:
    labels = {"app": name, "mlplat.dev/team": TEAM}
    container = {
        "name": "app",
        "image": image,
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }
    spec = {"nodeSelector": {POOL: "system"}, "containers": [container]}
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": TEAM, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }
    return yaml.safe_dump(body)


def _ok(kubectl: Kubectl, *args: str, stdin: str | None = None) -> str:
    done = kubectl(*args, stdin=stdin)
    assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
    return str(done.stdout)


def _items(kubectl: Kubectl, *args: str) -> list[Any]:
    return list(json.loads(_ok(kubectl, "get", *args, "-o", "json"))["items"])


def _until(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def run_session(kubectl: Kubectl) -> None:
    """The session's checks; kubectl(*args, stdin=None) runs kubectl on the environment."""
    nodes = {n["metadata"]["name"]: n for n in _items(kubectl, "nodes")}
    wide = _ok(kubectl, "get", "nodes", "-o", "wide").splitlines()
    assert wide[0].split()[:6] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    _ok(kubectl, "apply", "-f", "-", stdin=_deployment("web", "us-docker.pkg.dev/mlp/web:1", 2))
    _ok(kubectl, "apply", "-f", "-", stdin=_deployment("miner", "evil.example.com/miner:1", 2))
    rolled = _ok(kubectl, "rollout", "status", "deployment/web", "-n", TEAM, "--timeout=20s")
    assert 'deployment "web" successfully rolled out' in rolled
    for pod in _items(kubectl, "pods", "-n", TEAM, "-l", "app=web"):
        assert pod["status"]["phase"] == "Running"
        node = nodes[pod["spec"]["nodeName"]]
        assert node["metadata"]["labels"][POOL] == "system"
    pods = _ok(kubectl, "get", "pods", "-n", TEAM, "-l", "app=web", "-o", "wide").splitlines()
    assert pods[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    assert all(line.split()[1:3] == ["1/1", "Running"] for line in pods[1:]) and len(pods) == 3

    _ok(kubectl, "set", "image", "deployment/web", "app=us-docker.pkg.dev/mlp/web:2", "-n", TEAM)
    _ok(kubectl, "rollout", "status", "deployment/web", "-n", TEAM, "--timeout=20s")
    history = _ok(kubectl, "rollout", "history", "deployment/web", "-n", TEAM).splitlines()
    assert [line.split()[0] for line in history[2:] if line.strip()] == ["1", "2"]
    deployments = _ok(kubectl, "get", "deployments", "-n", TEAM, "-o", "wide")
    assert deployments.splitlines()[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]

    miner = _until(
        lambda: [
            s
            for s in _items(kubectl, "rs", "-n", TEAM, "-l", "app=miner")
            if s.get("status", {}).get("conditions")
        ],
        "the denied ReplicaSet's failure",
    )[0]
    shown = _ok(kubectl, "get", "deployment", "miner", "-n", TEAM).splitlines()[1].split()
    assert shown[1] == "0/2"
    events = _items(
        kubectl,
        "events",
        "-n",
        TEAM,
        "--field-selector",
        f"involvedObject.name={miner['metadata']['name']},reason=FailedCreate",
    )
    assert events and events[0]["type"] == "Warning"
    assert events[0]["message"].startswith(
        f"Error creating: {WEBHOOK}: [mlplat-allowed-registries]"
    )

    workers = _until(
        lambda: [
            p
            for p in _items(kubectl, "pods", "-n", TEAM, "-l", "ray.io/node-type=worker")
            if p["spec"].get("nodeName")
        ],
        "the Ray worker on a node",
    )
    nodes = {n["metadata"]["name"]: n for n in _items(kubectl, "nodes")}
    for worker in workers:
        node = nodes[worker["spec"]["nodeName"]]
        assert node["metadata"]["labels"][POOL] == "gpu-l4-spot"
        assert int(node["status"]["allocatable"]["nvidia.com/gpu"]) >= 2
        taints = {(t["key"], t["value"]) for t in node["spec"]["taints"]}
        tolerated = {(t.get("key"), t.get("value")) for t in worker["spec"]["tolerations"]}
        assert ("spot", "true") in taints & tolerated
    _ok(kubectl, "delete", "deployment", "web", "miner", "-n", TEAM)


_BAD_PULL_POLICY = """
apiVersion: v1
kind: Pod
metadata: {name: odd, namespace: vision, labels: {mlplat.dev/team: vision}}
spec:
  containers: [{name: main, image: us-docker.pkg.dev/mlp/odd:1, imagePullPolicy: Sometimes}]
"""
_GREEDY = """
apiVersion: v1
kind: Pod
metadata: {name: greedy, namespace: vision, labels: {mlplat.dev/team: vision}}
spec:
  containers:
  - name: main
    image: us-docker.pkg.dev/mlp/train:1
    resources:
      requests: {cpu: "1", memory: 1Gi, nvidia.com/gpu: 99}
      limits: {nvidia.com/gpu: 99}
"""


def run_admin_commands(kubectl: Kubectl) -> None:
    """What an admin types besides workloads: typed creates (protobuf bodies), scale, explain
    of built-ins and of the Ray add-on's CRDs, whoami, can-i --list for the team's members,
    and the server's own refusals (an enum, the team's quota)."""
    ns = ("-n", "scratch")
    _ok(kubectl, "create", "namespace", "scratch")
    made = _ok(kubectl, "create", "deployment", "hello", "--image=us-docker.pkg.dev/mlp/h:1", *ns)
    assert made.strip() == "deployment.apps/hello created"
    assert _ok(kubectl, "scale", "deployment/hello", "--replicas=3", *ns).strip() == (
        "deployment.apps/hello scaled"
    )
    _ok(kubectl, "create", "service", "clusterip", "hello", "--tcp=80:8080", *ns)
    _ok(kubectl, "create", "job", "once", "--image=us-docker.pkg.dev/mlp/j:1", *ns, "--", "true")
    scale = json.loads(_ok(kubectl, "get", "deployment", "hello", *ns, "-o", "json"))
    assert scale["spec"]["replicas"] == 3

    assert "FIELD: replicas <integer>" in _ok(kubectl, "explain", "deployment.spec.replicas")
    assert "headGroupSpec" in _ok(kubectl, "explain", "rayclusters.spec")
    assert "Username" in _ok(kubectl, "auth", "whoami")
    admin = _ok(kubectl, "auth", "can-i", "--list", "-n", TEAM, "--as", "alice@example.com")
    assert "rolebindings.rbac.authorization.k8s.io" in admin
    developer = kubectl(
        "auth", "can-i", "create", "rolebindings", "-n", TEAM, "--as", "bob@example.com"
    )
    assert developer.stdout.strip() == "no"

    refused = kubectl("apply", "-f", "-", stdin=_BAD_PULL_POLICY)
    assert refused.returncode == 1
    assert (
        'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'
        in (refused.stderr)
    )
    greedy = kubectl("apply", "-f", "-", stdin=_GREEDY)
    assert greedy.returncode == 1
    assert re.search(
        r'pods "greedy" is forbidden: exceeded quota: team-quota, requested: '
        r"requests.nvidia.com/gpu=99, used: requests.nvidia.com/gpu=\d+, "
        r"limited: requests.nvidia.com/gpu=8",
        greedy.stderr,
    ), greedy.stderr
    _ok(kubectl, "delete", "namespace", "scratch", "--wait=false")
