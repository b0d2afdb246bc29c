"""Config Sync in a cluster where it is installed: every RootSync and RepoSync (the fleet's
`root-sync` and any other, from users or from Git) gets its reconciler (ServiceAccount,
Deployment, binding) and is reconciled; a removed sync takes its reconciler along.
"""

from __future__ import annotations

import contextlib
from typing import Any

from sandbox.controllers.applier import Reconciler
from sandbox.controllers.configsync_objects import API_VERSION, reconciler_objects
from sandbox.controllers.context import Context
from sandbox.controllers.reconciler import MANAGER, SYNCS, SyncReconciler, sync_key
from sandbox.k8s.errors import StatusError
from sandbox.k8s.inprocess_client import ClusterApi

Obj = dict[str, Any]


def _syncs(api: ClusterApi) -> list[Obj]:
    found = []
    for kind in ("RootSync", "RepoSync"):
        with contextlib.suppress(KeyError):
            found += [
                {"apiVersion": API_VERSION, "kind": kind, **obj}
                for obj in api.list(API_VERSION, kind)
            ]
    return found


def _deploy(api: ClusterApi, who: Reconciler, version: str) -> None:
    for obj in reconciler_objects(who, version):
        with contextlib.suppress(StatusError):
            api.apply(obj)


def _retire(api: ClusterApi, who: Reconciler, version: str) -> None:
    for obj in reconciler_objects(who, version):
        metadata = obj["metadata"]
        with contextlib.suppress(StatusError, KeyError):
            api.delete(
                obj["apiVersion"], obj["kind"], metadata["name"], metadata.get("namespace", "")
            )


def reconcile_config_sync(ctx: Context, cluster_key: str, version: str) -> None:
    """One pass over the cluster's RootSyncs and RepoSyncs."""
    store = ctx.rt.store
    api = ClusterApi(ctx.rt, cluster_key, manager=MANAGER)
    reconciler = SyncReconciler(ctx, cluster_key)
    live = set()
    for obj in _syncs(api):
        metadata = obj["metadata"]
        if metadata.get("deletionTimestamp"):
            continue
        key = sync_key(cluster_key, obj["kind"], metadata["namespace"], metadata["name"])
        live.add(key)
        who = Reconciler(obj["kind"] == "RootSync", metadata["namespace"], metadata["name"])
        known = store.get(SYNCS, key)
        if known is None or known.get("uid") != metadata.get("uid"):
            _deploy(api, who, version)
        reconciler.reconcile(obj)
    for key, _ in store.items(SYNCS, f"{cluster_key}|"):
        if key in live:
            continue
        kind, namespace, name = key.split("|")[-3:]
        _retire(api, Reconciler(kind == "RootSync", namespace, name), version)
        store.delete(SYNCS, key)
