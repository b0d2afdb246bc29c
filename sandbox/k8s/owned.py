"""What kube-controller-manager's workload controllers share: owner references, names with
Kubernetes' safe alphabet, writes as the controller, status written only when it changed, and
one sync per object at a time (a write made by a sync re-enters `react` in the same thread)."""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.k8s.cluster_context import Cluster, Ref
from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import user_info
from sandbox.k8s.kinds import builtin, storage_key
from sandbox.k8s.verbs import update
from sandbox.k8s.writes import WriteOptions

Obj = dict[str, Any]
SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' rand.SafeEncodeString alphabet
PODS = storage_key(builtin("Pod"))
TIME_KEYS = frozenset({"lastUpdateTime", "lastTransitionTime", "lastProbeTime"})
_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()
_LOCAL = threading.local()


def controller_options(controller: str, subresource: str = "") -> WriteOptions:
    """Writes as kube-controller-manager's controller service account."""
    user = user_info(f"system:serviceaccount:kube-system:{controller}")
    return WriteOptions(user=user, manager="kube-controller-manager", subresource=subresource)


def safe_hash(value: Any) -> str:
    """A short name-safe hash of a value (like pod-template-hash)."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()
    number = str(int.from_bytes(digest[:4], "big"))
    return "".join(SAFE[ord(c) % len(SAFE)] for c in number)


def suffix(length: int = 5) -> str:
    """A random name suffix as generateName makes it."""
    return "".join(secrets.choice(SAFE) for _ in range(length))


def owner_reference(owner: Obj) -> Obj:
    """The controller reference to owner."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: Obj) -> Obj | None:
    """obj's controller owner reference, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def owned_by(cluster: Cluster, storage: str, owner: Obj) -> list[Obj]:
    """Live objects of a storage in owner's namespace that owner controls."""
    uid = owner["metadata"]["uid"]
    return [
        obj
        for obj in cluster.objects.select(storage, owner["metadata"].get("namespace", ""))
        if (controller_of(obj) or {}).get("uid") == uid
        and not obj["metadata"].get("deletionTimestamp")
    ]


def without_times(value: Any) -> Any:
    """value without timestamp keys (what a status change is judged on)."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if k not in TIME_KEYS}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def stamp_conditions(old: list[Obj] | None, new: list[Obj], now: str) -> list[Obj]:
    """Conditions with lastTransitionTime kept while the status holds, lastUpdateTime while
    the condition is unchanged (when the kind has one)."""
    before = {c.get("type"): c for c in old or []}
    stamped = []
    for condition in new:
        previous = before.get(condition["type"]) or {}
        held = previous.get("status") == condition["status"]
        out = dict(condition)
        if "lastUpdateTime" in condition:
            same = without_times(previous) == without_times(condition)
            out["lastUpdateTime"] = previous.get("lastUpdateTime", now) if same else now
        out["lastTransitionTime"] = previous.get("lastTransitionTime", now) if held else now
        stamped.append(out)
    return stamped


def write_status(cluster: Cluster, obj: Obj, status: Obj, controller: str) -> None:
    """Replace obj's status through /status when it changed (timestamps aside)."""
    if without_times(obj.get("status") or {}) == without_times(status):
        return
    kind = builtin(obj["kind"])
    metadata = obj["metadata"]
    body = copy.deepcopy(obj)
    body["status"] = status
    ref = Ref(kind, metadata.get("namespace", ""), metadata["name"])
    try:
        update(cluster, ref, body, controller_options(controller, "status"))
    except StatusError as exc:
        if exc.code not in (404, 409):
            raise


def fresh(cluster: Cluster, storage: str, obj: Obj) -> Obj | None:
    """The stored object obj names (None when gone or being deleted)."""
    metadata = obj["metadata"]
    found = cluster.objects.get(storage, metadata.get("namespace", ""), metadata["name"])
    if found is None or found["metadata"].get("deletionTimestamp"):
        return None
    if found["metadata"].get("uid") != metadata.get("uid"):
        return None
    return found


def _lock(cluster_key: str) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(cluster_key, threading.RLock())


@contextmanager
def cluster_lock(cluster: Cluster) -> Iterator[None]:
    """One thread at a time runs a cluster's workload controllers (they count, then create)."""
    with _lock(cluster.key):
        yield


def once(key: str, sync: Callable[[], None]) -> None:
    """Run sync; a call for the same key while it runs (from its own writes) runs it again
    afterwards instead of nesting."""
    busy: set[str] = getattr(_LOCAL, "busy", None) or set()
    again: set[str] = getattr(_LOCAL, "again", None) or set()
    _LOCAL.busy, _LOCAL.again = busy, again
    if key in busy:
        again.add(key)
        return
    busy.add(key)
    try:
        for _ in range(5):
            sync()
            if key not in again:
                break
            again.discard(key)
    finally:
        busy.discard(key)
        again.discard(key)
