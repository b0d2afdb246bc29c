"""Events as Kubernetes' event recorders write them (core/v1): one per object, reason and
message, a repeat counted on the same Event (`count`, `lastTimestamp`) as client-go's
correlator aggregates it."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import user_info
from sandbox.k8s.kinds import builtin, storage_key
from sandbox.k8s.verbs import create, update
from sandbox.k8s.writes import WriteOptions

Obj = dict[str, Any]
EVENT = builtin("Event")
NORMAL = "Normal"
WARNING = "Warning"


def involved(obj: Obj) -> Obj:
    """The `involvedObject` reference to obj."""
    metadata = obj["metadata"]
    found = {
        "kind": obj.get("kind", ""),
        "name": metadata["name"],
        "uid": metadata.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": metadata.get("resourceVersion", ""),
    }
    if metadata.get("namespace"):
        found["namespace"] = metadata["namespace"]
    return found


def record(
    cluster: Cluster,
    obj: Obj,
    kind: str,
    reason: str,
    message: str,
    *,
    component: str,
    host: str = "",
) -> None:
    """Record an event about obj (`kind` Normal or Warning); a repeat bumps its count."""
    metadata = obj["metadata"]
    namespace = metadata.get("namespace") or "default"
    seed = f"{metadata.get('uid')}|{kind}|{reason}|{message}|{component}"
    name = f"{metadata['name']}.{hashlib.sha256(seed.encode()).hexdigest()[:16]}"
    now = cluster.now()
    writer = WriteOptions(user=user_info(f"system:{component}"), manager=component)
    found = cluster.objects.get(storage_key(EVENT), namespace, name)
    try:
        if found is not None:
            bumped = copy.deepcopy(found)
            bumped["count"] = int(found.get("count") or 1) + 1
            bumped["lastTimestamp"] = now
            bumped["involvedObject"] = involved(obj)
            update(cluster, Ref(EVENT, namespace, name), bumped, writer)
            return
        source = {"component": component, **({"host": host} if host else {})}
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved(obj),
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": kind,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        create(cluster, Ref(EVENT, namespace), body, writer)
    except StatusError:
        return  # the namespace is going, or a concurrent recorder won: events are best effort
