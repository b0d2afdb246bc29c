"""The built-in controllers a real cluster runs, reduced to what clients observe.

- namespaces: a new namespace gets a `default` ServiceAccount and the `kube-root-ca.crt`
  ConfigMap; a deleted one (Terminating) has its contents deleted, objects with finalizers
  waited for, then goes itself.
- workloads (`workloads.react_workloads`): Deployments, ReplicaSets and Jobs make and count
  their pods; owners deleted take their dependents along (garbage collection).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import user_info
from sandbox.k8s.kinds import builtin, storage_key
from sandbox.k8s.verbs import create
from sandbox.k8s.watch import Event
from sandbox.k8s.workloads import WORKLOAD_STORAGES, react_workloads
from sandbox.k8s.writes import WriteOptions

Obj = dict[str, Any]
CONTROLLER = WriteOptions(
    user=user_info("system:kube-controller-manager"), manager="kube-controller-manager"
)
NAMESPACES = storage_key(builtin("Namespace"))
PURGE_RETRY_SECONDS = 0.2
ROOT_CA = (
    "-----BEGIN CERTIFICATE-----\nMIIBsandboxclusterrootcertificateauthority\n"
    "-----END CERTIFICATE-----\n"
)


def react(cluster: Cluster, events: list[Event]) -> None:
    """Run the built-in controllers over stored changes."""
    for event in events:
        if event.storage == NAMESPACES:
            name = event.obj["metadata"]["name"]
            deleting = bool(event.obj["metadata"].get("deletionTimestamp"))
            was_deleting = bool((event.old or {}).get("metadata", {}).get("deletionTimestamp"))
            if event.type == "ADDED":
                populate_namespace(cluster, name)
            elif event.type == "MODIFIED" and deleting and not was_deleting:
                schedule_purge(cluster, name, 0.05)
        elif event.storage in WORKLOAD_STORAGES:
            react_workloads(cluster, event)


def populate_namespace(cluster: Cluster, namespace: str) -> None:
    """What kube-controller-manager adds to every namespace."""
    account = {"metadata": {"name": "default"}}
    config = {"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": ROOT_CA}}
    for kind, body in ((builtin("ServiceAccount"), account), (builtin("ConfigMap"), config)):
        try:
            create(cluster, Ref(kind, namespace), body, CONTROLLER)
        except StatusError as exc:
            if exc.code not in (404, 403, 409):
                raise


def schedule_purge(cluster: Cluster, namespace: str, delay: float) -> None:
    """Delete a Terminating namespace's contents (and it) on the background thread."""
    cluster.backend.later(lambda: purge_namespace(cluster, namespace), delay)


def purge_namespace(cluster: Cluster, namespace: str) -> None:
    """One pass of the namespace controller over a Terminating namespace."""
    objects = cluster.objects
    store = objects.store
    events: list[Event] = []
    waiting = 0
    with store.transaction():
        found = objects.get(NAMESPACES, "", namespace)
        if found is None or not found["metadata"].get("deletionTimestamp"):
            return
        for storage, obj in objects.in_namespace(namespace):
            if obj["metadata"].get("finalizers"):
                waiting += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    marked = copy.deepcopy(obj)
                    marked["metadata"]["deletionTimestamp"] = cluster.now()
                    marked["metadata"]["deletionGracePeriodSeconds"] = 0
                    events.append(objects.put(storage, marked, obj))
            else:
                events.append(objects.remove(storage, obj))
        if not waiting:
            events.append(objects.remove(NAMESPACES, found))
    cluster.finish(events)
    if waiting:
        schedule_purge(cluster, namespace, PURGE_RETRY_SECONDS)


def resume_purges(cluster: Cluster) -> None:
    """Pick up namespaces left Terminating when the sandbox stopped."""
    for namespace in cluster.objects.select(NAMESPACES):
        if namespace["metadata"].get("deletionTimestamp"):
            schedule_purge(cluster, namespace["metadata"]["name"], 0.05)
