"""A kubectl session on a provisioned environment (dev): workloads behave as on GKE.

An allowed image runs on the pool it asked for, a denied one stays 0/N with Policy Controller's
message in its ReplicaSet's events, the team's GPU Ray worker sits on the Spot GPU pool whose
taint it tolerates, and `rollout status/history` and `get -o wide` work."""

from __future__ import annotations

import json
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
