"""One cluster as the verbs see it: storage, kinds, schemas, time, and what runs after writes."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.k8s.backend import Backend
from sandbox.k8s.crds import cluster_kinds, schema_for
from sandbox.k8s.kinds import Kind, KindIndex
from sandbox.k8s.objects import ClusterObjects
from sandbox.k8s.schemas import Schema
from sandbox.k8s.watch import Event

Obj = dict[str, Any]
Reactions = Callable[["Cluster", list[Event]], None]


def _no_reactions(cluster: Cluster, events: list[Event]) -> None:
    return None


@dataclass
class Cluster:
    """A cluster key bound to its backend; `react` runs the simulated built-in controllers."""

    backend: Backend
    key: str
    react: Reactions = field(default=_no_reactions)

    @property
    def objects(self) -> ClusterObjects:
        """The cluster's storage."""
        return self.backend.objects(self.key)

    def kinds(self) -> KindIndex:
        """Kinds served now (built-ins and established CRDs)."""
        return cluster_kinds(self.backend, self.key)

    def schema(self, kind: Kind) -> Schema:
        """The shape of a kind's objects."""
        return schema_for(self.backend, self.key, kind)

    def now(self) -> str:
        """Sandbox time as Kubernetes writes timestamps: `2024-05-01T12:00:00Z`."""
        return datetime.fromtimestamp(self.backend.rt.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def finish(self, events: list[Event]) -> None:
        """After a write is stored: the change callbacks, then the built-in controllers."""
        if not events:
            return
        self.backend.hooks.notify(self.key, [(e.type, e.obj) for e in events])
        self.react(self, events)


def present(kind: Kind, obj: Obj) -> Obj:
    """A stored object as served in kind's version (custom resources may have several)."""
    if obj.get("apiVersion") == kind.api_version:
        return obj
    shown = copy.copy(obj)
    shown["apiVersion"] = kind.api_version
    return shown


@dataclass(frozen=True)
class Ref:
    """Which object (or collection) a verb acts on."""

    kind: Kind
    namespace: str = ""  # "" for cluster-scoped kinds
    name: str = ""
