"""Listeners told when a GKE cluster of the sandbox comes up or goes away.

A later part starts a Kubernetes API server per cluster:

    from sandbox.gcp.container import cluster_events

    cluster_events.on_cluster_running(lambda rt, event: start_apiserver(event))
    cluster_events.on_cluster_deleted(lambda rt, event: stop_apiserver(event))

`running` fires once, when a cluster's create operation completes (PROVISIONING → RUNNING), not
when a cluster returns to RUNNING after RECONCILING. `deleted` fires when its delete operation
completes. Both run synchronously inside the operation's store transaction (in the ticker or a
request thread): a listener must be quick, must not call the sandbox's HTTP APIs (it would wait
on the lock it runs under), and should be idempotent. After a restart, clusters already RUNNING
do not fire again: enumerate them with `cluster_store.running_clusters(rt)`.
A listener that raises is reported on stderr and does not fail the operation.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.runtime import Runtime


@dataclass(frozen=True)
class ClusterEvent:
    """A cluster that came up or went away: where it is, and its Container v1 JSON."""

    project_id: str
    project_number: str
    location: str
    name: str
    cluster: dict[str, Any]  # a copy of the stored Cluster (camelCase, as GKE returns it)

    @property
    def path(self) -> str:
        """`projects/<id>/locations/<location>/clusters/<name>`."""
        return f"projects/{self.project_id}/locations/{self.location}/clusters/{self.name}"


Listener = Callable[[Runtime, ClusterEvent], None]

_lock = threading.Lock()
_running: list[Listener] = []
_deleted: list[Listener] = []


def on_cluster_running(fn: Listener) -> Listener:
    """Register `fn(rt, event)` for clusters reaching RUNNING; usable as a decorator."""
    with _lock:
        _running.append(fn)
    return fn


def on_cluster_deleted(fn: Listener) -> Listener:
    """Register `fn(rt, event)` for deleted clusters; usable as a decorator."""
    with _lock:
        _deleted.append(fn)
    return fn


def remove_listener(fn: Listener) -> None:
    """Forget `fn` (both registries); unknown listeners are ignored."""
    with _lock:
        for registry in (_running, _deleted):
            while fn in registry:
                registry.remove(fn)


def fire_running(rt: Runtime, event: ClusterEvent) -> None:
    """Tell every running-listener (called by the Container API's effects)."""
    _fire(_running, rt, event)


def fire_deleted(rt: Runtime, event: ClusterEvent) -> None:
    """Tell every deleted-listener (called by the Container API's effects)."""
    _fire(_deleted, rt, event)


def _fire(registry: list[Listener], rt: Runtime, event: ClusterEvent) -> None:
    with _lock:
        listeners = list(registry)
    for listener in listeners:
        try:
            listener(rt, event)
        except Exception:
            traceback.print_exc(file=sys.stderr)
