"""kube-scheduler's filters over a cluster's Node objects: node selector and required node
affinity, taints and tolerations, then resource requests against what the node can still
allocate (the requests of the pods already bound to it). A pod no node takes gets the
scheduler's message, `0/N nodes are available: …. preemption: …`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.pool_capacity import GPU, Taint, _tolerates, selects
from sandbox.controllers.quantities import parse_quantity, pod_resources

Obj = dict[str, Any]
_TERMINAL = ("Succeeded", "Failed")
_RESOURCES = ("cpu", "memory", GPU, "ephemeral-storage")


@dataclass
class NodeView:
    """What the scheduler sees of one node."""

    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    allocatable: dict[str, float]
    ip: str
    pod_cidr: str
    used: dict[str, float] = field(default_factory=dict)
    pods: int = 0


def _view(node: Obj) -> NodeView:
    status, spec = node.get("status") or {}, node.get("spec") or {}
    allocatable: dict[str, float] = {}
    for name, value in (status.get("allocatable") or {}).items():
        try:
            allocatable[str(name)] = parse_quantity(value)
        except ValueError:
            continue
    taints = tuple(
        Taint(str(t.get("key")), str(t.get("value") or ""), str(t.get("effect")))
        for t in spec.get("taints") or []
        if t.get("effect") in ("NoSchedule", "NoExecute")
    )
    ip = next(
        (a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), ""
    )
    return NodeView(
        node["metadata"]["name"],
        dict(node["metadata"].get("labels") or {}),
        taints,
        allocatable,
        ip,
        str(spec.get("podCIDR") or ""),
    )


def node_views(nodes: list[Obj], pods: list[Obj]) -> dict[str, NodeView]:
    """Ready nodes by name, with what their bound pods already request."""
    views = {}
    for node in nodes:
        conditions = (node.get("status") or {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        if ready and not (node.get("spec") or {}).get("unschedulable"):
            views[node["metadata"]["name"]] = _view(node)
    for pod in pods:
        bound = views.get(str((pod.get("spec") or {}).get("nodeName") or ""))
        if bound is None or (pod.get("status") or {}).get("phase") in _TERMINAL:
            continue
        bound.pods += 1
        for name, value in pod_resources(pod.get("spec") or {}).items():
            bound.used[name] = bound.used.get(name, 0.0) + value
    return views


def misfit(node: NodeView, spec: Obj, requests: dict[str, float]) -> str:
    """Why the node cannot take the pod, worded as the scheduler's filters ("" if it can)."""
    if not selects(spec, node.labels):
        return "node(s) didn't match Pod's node affinity/selector"
    tolerations = list(spec.get("tolerations") or [])
    if requests.get(GPU):  # GKE's ExtendedResourceToleration admission adds it
        tolerations.append({"key": GPU, "operator": "Exists"})
    for taint in node.taints:
        if not _tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {taint.text()}"
    if node.pods + 1 > node.allocatable.get("pods", 110.0):
        return "Too many pods"
    for name in _RESOURCES:
        wanted = requests.get(name, 0.0)
        if wanted and node.used.get(name, 0.0) + wanted > node.allocatable.get(name, 0.0):
            return f"Insufficient {name}"
    return ""


def place(views: dict[str, NodeView], spec: Obj) -> tuple[NodeView | None, str]:
    """The node for a pod (the least requested that fits), or None and the scheduler's message."""
    requests = pod_resources(spec)
    fits: list[NodeView] = []
    reasons: Counter[str] = Counter()
    for view in views.values():
        why = misfit(view, spec, requests)
        if why:
            reasons[why] += 1
        else:
            fits.append(view)
    if fits:
        return min(fits, key=lambda v: (v.used.get("cpu", 0.0), v.pods, v.name)), ""
    total = len(views)
    if not total:
        return None, "no nodes available to schedule pods"
    shown = ", ".join(f"{count} {why}" for why, count in sorted(reasons.items()))
    insufficient = sum(c for why, c in reasons.items() if why.startswith(("Insufficient", "Too")))
    preemption = []
    if insufficient:
        preemption.append(f"{insufficient} No preemption victims found for incoming pod")
    if total - insufficient:
        preemption.append(f"{total - insufficient} Preemption is not helpful for scheduling")
    return None, (
        f"0/{total} nodes are available: {shown}. preemption: 0/{total} nodes are available: "
        f"{', '.join(preemption)}."
    )
