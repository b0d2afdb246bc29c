"""Workloads as on GKE, through kubectl: Nodes of the node pools, Deployments → ReplicaSets →
Pods scheduled on them, a refused pod leaving its ReplicaSet short with FailedCreate, rollouts
and their history, Jobs run to completion, logs, and what the sandbox cannot do (exec)."""

from __future__ import annotations

import ipaddress
import json
import time
from pathlib import Path
from typing import Any

import yaml

from tests.sandbox.controllers.fleet_env import Fleet, eventually

NS = "shop"


def _deployment(name: str, image: str, replicas: int, **pod: Any) -> dict[str, Any]:
    container = {
        "name": "app",
        "image": image,
        "args": ["serve", "--port=8080"],
        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container], **pod},
            },
        },
    }


def _json(fleet: Fleet, tmp: Path, *args: str) -> Any:
    done = fleet.kubectl(tmp, *args, "-o", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _events(fleet: Fleet, tmp: Path, name: str) -> list[tuple[str, str]]:
    listed = _json(
        fleet, tmp, "get", "events", "-n", NS, "--field-selector", f"involvedObject.name={name}"
    )
    return [(e["reason"], e["message"]) for e in listed["items"]]


def test_nodes_deployments_jobs_and_pod_streams(fleet: Fleet, tmp_path: Path) -> None:
    started = time.monotonic()
    # the system pool: one node in each of the region's three zones (written one by one)
    nodes = eventually(
        lambda: [n for n in [_json(fleet, tmp_path, "get", "nodes")["items"]] if len(n) >= 3],
        "three nodes",
    )[0]
    assert len(nodes) == 3
    labels = nodes[0]["metadata"]["labels"]
    assert labels["cloud.google.com/gke-nodepool"] == "system"
    assert labels["node.kubernetes.io/instance-type"] == "e2-standard-4"
    zones = {n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes}
    assert len(zones) == 3
    assert nodes[0]["status"]["allocatable"]["cpu"] == "3920m"  # GKE's reservation on 4 vCPUs
    wide = fleet.kubectl(tmp_path, "get", "nodes", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:7] == [
        "NAME",
        "STATUS",
        "ROLES",
        "AGE",
        "VERSION",
        "INTERNAL-IP",
        "EXTERNAL-IP",
    ]
    assert all(" Ready " in line for line in wide[1:])

    kubernetes = _json(fleet, tmp_path, "get", "service", "kubernetes", "-n", "default")
    system = eventually(
        lambda: (
            (d := _json(fleet, tmp_path, "get", "deployment", "kube-dns", "-n", "kube-system"))[
                "status"
            ].get("availableReplicas")
            == 2
            and d
        ),
        "kube-dns available",
    )
    assert system["spec"]["replicas"] == 2
    assert kubernetes["spec"]["clusterIP"] == "10.8.0.1"  # the first of the services range

    fleet.core.create_namespace({"metadata": {"name": NS}})
    quota = {"metadata": {"name": "two-pods"}, "spec": {"hard": {"pods": "2"}}}
    fleet.core.create_namespaced_resource_quota(NS, quota)
    web = _deployment("web", "nginx:1.27", 3)
    assert fleet.kubectl(tmp_path, "apply", "-f", "-", stdin=yaml.safe_dump(web)).returncode == 0

    # the quota admits two pods: the ReplicaSet stays short, with FailedCreate events
    short = eventually(
        lambda: (
            (d := _json(fleet, tmp_path, "get", "deployment", "web", "-n", NS))["status"].get(
                "availableReplicas"
            )
            == 2
            and any(c["type"] == "ReplicaFailure" for c in d["status"]["conditions"])
            and d
        ),
        "web short of one pod",
    )
    failure = next(c for c in short["status"]["conditions"] if c["type"] == "ReplicaFailure")
    assert failure["reason"] == "FailedCreate"
    assert "is forbidden: exceeded quota: two-pods" in failure["message"]
    sets = _json(fleet, tmp_path, "get", "rs", "-n", NS, "-l", "app=web")["items"]
    assert len(sets) == 1
    rs = sets[0]
    template_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{template_hash}"
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    said = _events(fleet, tmp_path, rs["metadata"]["name"])
    assert ("FailedCreate", failure["message"]) in [
        (r, m.removeprefix("Error creating: ")) for r, m in said
    ]
    assert sum(1 for r, _ in said if r == "SuccessfulCreate") == 2

    pods = _json(fleet, tmp_path, "get", "pods", "-n", NS, "-l", "app=web")["items"]
    by_node = {n["metadata"]["name"]: n for n in nodes}
    for pod in pods:
        node = by_node[pod["spec"]["nodeName"]]
        assert pod["status"]["phase"] == "Running"
        assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network(
            node["spec"]["podCIDR"]
        )
        assert pod["status"]["hostIP"] == node["status"]["addresses"][0]["address"]
        assert pod["metadata"]["ownerReferences"][0]["name"] == rs["metadata"]["name"]

    # a new image: revision 2, the old set scaled to 0, history of both
    fleet.kubectl(tmp_path, "delete", "quota", "two-pods", "-n", NS)
    done = fleet.kubectl(tmp_path, "set", "image", "deployment/web", "app=nginx:1.28", "-n", NS)
    assert done.returncode == 0, done.stderr
    rolled = fleet.kubectl(
        tmp_path, "rollout", "status", "deployment/web", "-n", NS, "--timeout=20s"
    )
    assert rolled.returncode == 0 and 'deployment "web" successfully rolled out' in rolled.stdout, (
        rolled
    )
    history = fleet.kubectl(tmp_path, "rollout", "history", "deployment/web", "-n", NS).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    table = fleet.kubectl(tmp_path, "get", "rs", "-n", NS, "-o", "wide").stdout.splitlines()
    assert table[0].split() == [
        "NAME",
        "DESIRED",
        "CURRENT",
        "READY",
        "AGE",
        "CONTAINERS",
        "IMAGES",
        "SELECTOR",
    ]
    assert sorted(line.split()[1] for line in table[1:]) == ["0", "3"]
    pods_wide = fleet.kubectl(tmp_path, "get", "pods", "-n", NS, "-o", "wide").stdout.splitlines()
    assert pods_wide[0].split()[:7] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]

    # nowhere to go: Pending, FailedScheduling, and no scale-up for a pool that does not exist
    lost = _deployment(
        "lost", "nginx:1.27", 1, nodeSelector={"cloud.google.com/gke-nodepool": "none"}
    )
    fleet.kubectl(tmp_path, "apply", "-f", "-", stdin=yaml.safe_dump(lost))
    pending = eventually(
        lambda: [
            p
            for p in _json(fleet, tmp_path, "get", "pods", "-n", NS, "-l", "app=lost")["items"]
            if p["status"].get("conditions")
        ],
        "lost's pod",
    )[0]
    assert pending["status"]["phase"] == "Pending"
    reasons = dict(
        eventually(lambda: _events(fleet, tmp_path, pending["metadata"]["name"]), "events")
    )
    assert reasons["FailedScheduling"].startswith(
        "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    )

    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once", "namespace": NS},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "task", "image": "busybox:1.36", "command": ["echo", "done"]}
                    ],
                }
            }
        },
    }
    fleet.kubectl(tmp_path, "apply", "-f", "-", stdin=yaml.safe_dump(job))
    waited = fleet.kubectl(
        tmp_path, "wait", "--for=condition=complete", "job/once", "-n", NS, "--timeout=20s"
    )
    assert waited.returncode == 0, waited.stderr
    log = fleet.kubectl(tmp_path, "logs", "job/once", "-n", NS)
    assert log.returncode == 0, log.stderr
    assert "busybox:1.36" in log.stdout and "echo done" in log.stdout and "exited 0" in log.stdout
    refused = fleet.kubectl(tmp_path, "exec", "deploy/web", "-n", NS, "--", "ls")
    assert refused.returncode != 0 and "not supported by the sandbox" in refused.stderr

    fleet.kubectl(tmp_path, "delete", "deployment", "web", "-n", NS)
    eventually(
        lambda: not _json(fleet, tmp_path, "get", "pods", "-n", NS, "-l", "app=web")["items"],
        "web's pods collected",
    )
    assert time.monotonic() - started < 30
