"""One list serves every waiter: the gates of many teams waiting on objects of one kind in one
cluster (each team's RepoSync, its RayCluster) read a list of that kind shared across the
process's threads, instead of one get each per round. A poll then costs one call per kind and
cluster, not one per team.

A look is answered from a list that started after the waiter's previous look (or, for its
first, after it began waiting): shared, never stale to the one asking."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kubernetes.dynamic import DynamicClient

from mlplat.k8s import objects as k8s

Look = Callable[[str, str], dict[str, Any] | None]  # (namespace, name) → the object or None


@dataclass
class _Listing:
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = -math.inf  # when the list held now was asked for (monotonic)
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    waiters: int = 0


_REGISTRY_LOCK = threading.Lock()
_LISTINGS: dict[tuple[str, str, str], _Listing] = {}


@contextmanager
def looking(api: DynamicClient, cluster: str, api_version: str, kind: str) -> Iterator[Look]:
    """While open, `look(namespace, name)` answers one object of `kind` in `cluster` (a key
    naming the cluster, e.g. its gateway URL) from the shared list. The list is dropped when its
    last waiter leaves."""
    key = (cluster, api_version, kind)
    with _REGISTRY_LOCK:
        listing = _LISTINGS.setdefault(key, _Listing())
        listing.waiters += 1
    seen = time.monotonic()  # a list must have started after this to answer the next look

    def look(namespace: str, name: str) -> dict[str, Any] | None:
        nonlocal seen
        with listing.lock:  # a waiter arriving during a list waits for it, then shares it
            if listing.started < seen:
                started = time.monotonic()
                found = k8s.list_(api, api_version, kind)
                listing.objects = {_key(obj): obj for obj in found}
                listing.started = started
            seen = math.nextafter(listing.started, math.inf)
            return listing.objects.get((namespace, name))

    try:
        yield look
    finally:
        with _REGISTRY_LOCK:
            listing.waiters -= 1
            if not listing.waiters and _LISTINGS.get(key) is listing:
                del _LISTINGS[key]


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")
