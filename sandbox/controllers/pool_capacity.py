"""Where a pod could run in a GKE cluster: its node pools (labels, taints, GPUs, vCPUs) and node
auto-provisioning, read from the sandbox's Container state; scheduler-like reasons when none fits.

Node labels as GKE sets them (`cloud.google.com/gke-nodepool`, `…/gke-accelerator`,
`…/gke-spot`, `…/machine-family`, `node.kubernetes.io/instance-type`,
`iam.gke.io/gke-metadata-server-enabled`, plus the pool's own labels); GPU pools carry the
`nvidia.com/gpu=present:NoSchedule` taint, which pods requesting GPUs tolerate implicitly.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.quantities import pod_resources
from sandbox.gcp.container.cluster_store import find_cluster
from sandbox.runtime import Runtime

Obj = dict[str, Any]
GPU = "nvidia.com/gpu"
ACCELERATOR = "cloud.google.com/gke-accelerator"
_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": ""}
_NAP_LABELS = frozenset(
    {
        ACCELERATOR,
        "cloud.google.com/gke-spot",
        "cloud.google.com/machine-family",
        "iam.gke.io/gke-metadata-server-enabled",
        "kubernetes.io/arch",
        "kubernetes.io/os",
    }
)


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str  # NoSchedule | NoExecute

    def text(self) -> str:
        return f"{{{self.key}: {self.value}}}"


@dataclass(frozen=True)
class Pool:
    """What the scheduler sees of a node pool's nodes."""

    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    gpus: int
    cpus: float | None


@dataclass(frozen=True)
class Capacity:
    """A cluster's node pools, and node auto-provisioning limits when it is enabled."""

    pools: tuple[Pool, ...]
    autoprovisioning: dict[str, float] | None = field(default=None)


def _vcpus(machine_type: str) -> float | None:
    found = re.search(r"-(\d+)$", machine_type)
    return float(found.group(1)) if found else None


def pool_from(raw: Obj, workload_identity: bool) -> Pool:
    config = raw.get("config") or {}
    machine = str(config.get("machineType") or "e2-medium")
    labels = {
        "cloud.google.com/gke-nodepool": str(raw.get("name")),
        "cloud.google.com/machine-family": machine.partition("-")[0],
        "node.kubernetes.io/instance-type": machine,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        **{str(k): str(v) for k, v in (config.get("labels") or {}).items()},
    }
    mode = (config.get("workloadMetadataConfig") or {}).get("mode")
    if mode == "GKE_METADATA" or (mode is None and workload_identity):
        labels["iam.gke.io/gke-metadata-server-enabled"] = "true"
    if config.get("spot"):
        labels["cloud.google.com/gke-spot"] = "true"
    if config.get("preemptible"):
        labels["cloud.google.com/gke-preemptible"] = "true"
    taints = [
        Taint(str(t.get("key")), str(t.get("value") or ""), _EFFECTS.get(str(t.get("effect")), ""))
        for t in config.get("taints") or []
    ]
    gpus = 0
    for accelerator in config.get("accelerators") or []:
        labels[ACCELERATOR] = str(accelerator.get("acceleratorType"))
        gpus += int(accelerator.get("acceleratorCount") or 0)
    if gpus and not any(t.key == GPU for t in taints):
        taints.append(Taint(GPU, "present", "NoSchedule"))
    kept = tuple(t for t in taints if t.effect)
    return Pool(str(raw.get("name")), labels, kept, gpus, _vcpus(machine))


def capacity_of(rt: Runtime, cluster_key: str) -> Capacity | None:
    """The node pools of the GKE cluster behind a cluster key (None: not a GKE cluster)."""
    parts = cluster_key.split("/")
    if len(parts) != 6:
        return None
    cluster = find_cluster(rt, parts[1], parts[3], parts[5])
    if cluster is None:
        return None
    identity = bool((cluster.get("workloadIdentityConfig") or {}).get("workloadPool"))
    pools = tuple(pool_from(p, identity) for p in cluster.get("nodePools") or [])
    autoscaling = cluster.get("autoscaling") or {}
    limits = None
    if autoscaling.get("enableNodeAutoprovisioning"):
        limits = {
            str(r.get("resourceType")): float(r.get("maximum") or 0)
            for r in autoscaling.get("resourceLimits") or []
        }
    return Capacity(pools, limits)


def _tolerates(tolerations: list[Obj], taint: Taint) -> bool:
    for toleration in tolerations:
        key, operator = toleration.get("key") or "", toleration.get("operator") or "Equal"
        if key and key != taint.key:
            continue
        if not key and operator != "Exists":
            continue
        if operator == "Equal" and (toleration.get("value") or "") != taint.value:
            continue
        if toleration.get("effect") and toleration["effect"] != taint.effect:
            continue
        return True
    return False


def _expression(expression: Obj, labels: dict[str, str]) -> bool:
    key, operator = expression.get("key", ""), expression.get("operator", "")
    values = [str(v) for v in expression.get("values") or []]
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator in ("Gt", "Lt") and present and values:
        try:
            number, bound = float(labels[key]), float(values[0])
        except ValueError:
            return False
        return number > bound if operator == "Gt" else number < bound
    return present if operator == "Exists" else operator == "DoesNotExist" and not present


def selects(spec: Obj, labels: dict[str, str]) -> bool:
    """Whether a pod's nodeSelector and required node affinity accept a node's labels."""
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            return False
    affinity = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = affinity.get("nodeSelectorTerms") or []
    return not terms or any(
        all(_expression(e, labels) for e in term.get("matchExpressions") or []) for term in terms
    )


def _misfit(pool: Pool, spec: Obj, requests: dict[str, float]) -> str:
    if not selects(spec, pool.labels):
        return "node(s) didn't match Pod's node affinity/selector"
    tolerations = list(spec.get("tolerations") or [])
    if requests.get(GPU):
        tolerations.append({"key": GPU, "operator": "Exists"})
    for taint in pool.taints:
        if not _tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {taint.text()}"
    if requests.get(GPU, 0.0) > pool.gpus:
        return f"Insufficient {GPU}"
    if pool.cpus is not None and requests.get("cpu", 0.0) > pool.cpus:
        return "Insufficient cpu"
    return ""


def _autoprovisioned(limits: dict[str, float], spec: Obj, requests: dict[str, float]) -> str:
    """Why node auto-provisioning cannot make a node for the pod ("" when it can)."""
    selector = {str(k): str(v) for k, v in (spec.get("nodeSelector") or {}).items()}
    tolerated = {str(t.get("key")) for t in spec.get("tolerations") or []}
    for key in selector:
        if key not in _NAP_LABELS and key not in tolerated:
            return f"node auto-provisioning cannot satisfy the node selector {key}"
    accelerator = selector.get(ACCELERATOR, "")
    gpus = requests.get(GPU, 0.0)
    if gpus and not accelerator:
        return f"node auto-provisioning needs a {ACCELERATOR} node selector for GPU pods"
    if accelerator and limits.get(accelerator, 0.0) < max(gpus, 1.0):
        return f"{accelerator} is not within the cluster's node auto-provisioning limits"
    if requests.get("cpu", 0.0) > limits.get("cpu", 0.0):
        return "the pod's cpu request exceeds the node auto-provisioning limits"
    return ""


def unschedulable(capacity: Capacity | None, spec: Obj) -> str:
    """Why no node can run a pod, worded like the scheduler ("" when one can)."""
    if capacity is None:
        return ""
    requests = pod_resources(spec)
    misfits: Counter[str] = Counter()
    for pool in capacity.pools:
        reason = _misfit(pool, spec, requests)
        if not reason:
            return ""
        misfits[reason] += 1
    why = ", ".join(f"{count} {reason}" for reason, count in sorted(misfits.items()))
    message = f"0/{len(capacity.pools)} nodes are available: {why or 'no nodes'}."
    if capacity.autoprovisioning is None:
        return message
    blocked = _autoprovisioned(capacity.autoprovisioning, spec, requests)
    return f"{message} pod didn't trigger scale-up: {blocked}" if blocked else ""
