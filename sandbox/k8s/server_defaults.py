"""What the API server fills in when an object is created, beyond validation's defaults: a
Service's cluster IP from the cluster's services range (a free one), a Job's selector on its
own uid and the labels of its pods."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.k8s.cluster_context import Cluster
from sandbox.k8s.ip_ranges import networks_of
from sandbox.k8s.kinds import Kind, builtin, storage_key

Obj = dict[str, Any]
SERVICES = storage_key(builtin("Service"))


def _cluster_ip(cluster: Cluster, obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("type") == "ExternalName" or spec.get("clusterIP"):
        return
    networks = networks_of(cluster.backend.store, cluster.key)
    taken = {str((s.get("spec") or {}).get("clusterIP")) for s in cluster.objects.select(SERVICES)}
    seed = f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}".encode()
    start = int.from_bytes(hashlib.sha256(seed).digest()[:4], "big")
    slots = networks.service_slots()
    for step in range(min(slots, 4096)):
        index = 11 + (start + step) % max(slots - 11, 1)  # below .11: kubernetes, kube-dns
        address = networks.service_ip(index)
        if address not in taken:
            spec["clusterIP"] = address
            spec["clusterIPs"] = [address]
            return


def _job(obj: Obj) -> None:
    metadata, spec = obj["metadata"], obj.setdefault("spec", {})
    uid, name = metadata["uid"], metadata["name"]
    labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": name,
        "controller-uid": uid,
        "job-name": name,
    }
    if not spec.get("manualSelector"):
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        template_meta = spec.setdefault("template", {}).setdefault("metadata", {})
        template_meta["labels"] = {**(template_meta.get("labels") or {}), **labels}
    metadata["labels"] = {**labels, **(metadata.get("labels") or {})}
    for key, value in (
        ("parallelism", 1),
        ("completions", 1),
        ("backoffLimit", 6),
        ("completionMode", "NonIndexed"),
        ("suspend", False),
        ("podReplacementPolicy", "TerminatingOrFailed"),
        ("manualSelector", None),
    ):
        if value is not None:
            spec.setdefault(key, value)


def on_create(cluster: Cluster, kind: Kind, obj: Obj) -> None:
    """Fill in obj (its uid set) as the API server does at creation."""
    if kind.kind == "Service" and not kind.custom:
        _cluster_ip(cluster, obj)
    elif kind.kind == "Job" and not kind.custom:
        _job(obj)
