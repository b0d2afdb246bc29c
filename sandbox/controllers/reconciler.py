"""One RootSync or RepoSync reconciled on the sandbox clock, its state kept in `rt.store`.

Each pass: read the branch when the poll period is up, or at once when the Secret a sync stalled
on now reads (credentials from the sync's Secret, the commit from GitHub); a new commit is
applied after the modelled delay (first sync, or new commit); failed syncs are retried;
objects changed by hand are put back at the next pass (`mark_drifted`, from Config Sync's
webhook when drift is not prevented), and everything is re-applied every resync period. The
record (collection `controllers.syncs`) holds what was seen, attempted, applied and synced, the
errors of each stage and the inventory to prune from.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sandbox import latency
from sandbox.controllers import settings as timing
from sandbox.controllers.applier import SYSTEM_NAMESPACE, Applier, Reconciler, inventory
from sandbox.controllers.context import Context
from sandbox.controllers.gitsource import Source, SourceError, credentials, source_of
from sandbox.controllers.knv import INVALID_SYNC, SyncError
from sandbox.controllers.manifests import parse_files, validate
from sandbox.controllers.statuspatch import write_status
from sandbox.controllers.sync_status import sync_status
from sandbox.k8s.errors import StatusError
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.runtime import Runtime

Obj = dict[str, Any]
SYNCS = "controllers.syncs"
DRIFTED = "controllers.drifted"  # key: sync key; an object of the sync was changed by hand
MANAGER = "reconciler-manager"


def sync_key(cluster_key: str, kind: str, namespace: str, name: str) -> str:
    """The store key of a sync's record."""
    return f"{cluster_key}|{kind}|{namespace}|{name}"


def mark_drifted(rt: Runtime, key: str) -> None:
    """Note that an object of the sync `key` was changed by hand: Config Sync's remediator
    watches what it manages and puts it back at the sync's next pass."""
    rt.store.put(DRIFTED, key, {"at": rt.now()})


def _take_drifted(rt: Runtime, key: str) -> bool:
    if rt.store.get(DRIFTED, key) is None:
        return False
    rt.store.delete(DRIFTED, key)
    return True


def _error(error: SyncError) -> Obj:
    return {"status": error.status(), "hub": error.hub()}


def _new_record(uid: str) -> Obj:
    return {
        "uid": uid,
        "spec": None,
        "polledAt": 0.0,
        "seen": "",
        "pending": None,
        "attempted": "",
        "attemptedAt": 0.0,
        "applied": "",
        "synced": "",
        "syncedAt": 0.0,
        "failed": False,
        "stalled": None,
        "credentialsStalled": False,
        "fetchError": None,
        "sourceErrors": [],
        "syncErrors": [],
        "inventory": [],
    }


def _misplaced(who: Reconciler) -> SyncError | None:
    if who.root and who.namespace != SYSTEM_NAMESPACE:
        return SyncError(
            INVALID_SYNC,
            f"RootSync objects are only allowed in the {SYSTEM_NAMESPACE} namespace, "
            f"not in {who.namespace}",
        )
    if not who.root and who.namespace == SYSTEM_NAMESPACE:
        return SyncError(
            INVALID_SYNC, f"RepoSync objects are not allowed in the {SYSTEM_NAMESPACE} namespace"
        )
    return None


class SyncReconciler:
    """Reconciles the syncs of one cluster."""

    def __init__(self, ctx: Context, cluster_key: str) -> None:
        self.ctx = ctx
        self.cluster_key = cluster_key
        self.api = ClusterApi(ctx.rt, cluster_key, manager=MANAGER)

    def reconcile(self, obj: Obj) -> Obj:
        """One pass over the sync `obj`; returns its record."""
        ctx = self.ctx
        store, now = ctx.rt.store, ctx.now
        metadata = obj["metadata"]
        who = Reconciler(obj["kind"] == "RootSync", metadata["namespace"], metadata["name"])
        key = sync_key(self.cluster_key, obj["kind"], who.namespace, who.name)
        rec = store.get(SYNCS, key)
        if rec is None or rec.get("uid") != metadata.get("uid"):
            rec = _new_record(str(metadata.get("uid")))
        before = json.dumps(rec, sort_keys=True)
        spec = obj.get("spec") or {}
        spec_text = json.dumps(spec, sort_keys=True)
        changed = rec["spec"] != spec_text
        if changed:
            rec.update(spec=spec_text, pending=None, polledAt=0.0)
        source = source_of(spec)
        misplaced = _misplaced(who)
        if misplaced is not None:
            rec["stalled"] = _error(misplaced)
        elif (
            changed
            or now >= rec["polledAt"] + timing.git_poll(ctx.rt, ctx.settings, source.period)
            or (rec.get("credentialsStalled") and self._credentials(who, source))
        ):
            rec["polledAt"] = now
            with latency.subject(key):  # which sync the first-sync delay is drawn for
                self._poll(rec, who, source, changed)
        commit = self._due(rec)
        if not commit and rec["attempted"] and _take_drifted(ctx.rt, key):
            commit = str(rec["attempted"])  # the remediator: put back what was changed by hand
        if commit:
            self._sync(rec, who, source, commit)
        if json.dumps(rec, sort_keys=True) != before:
            store.put(SYNCS, key, rec)
        with contextlib.suppress(StatusError, KeyError):  # deleted meanwhile
            write_status(self.api, obj, sync_status(obj, rec, source, who, self.ctx.stamp))
        return rec

    def _credentials(self, who: Reconciler, source: Source) -> bool:
        """Whether the sync's Secret now reads: reconciler-manager watches the Secret a sync
        names, so one that waits for it goes on as soon as it is written, not a period later."""
        try:
            credentials(self.api, who.namespace, source)
        except SourceError:
            return False
        return True

    def _poll(self, rec: Obj, who: Reconciler, source: Source, changed: bool) -> None:
        try:
            token = credentials(self.api, who.namespace, source)
        except SourceError as exc:
            rec.update(stalled=_error(exc.error), fetchError=None, credentialsStalled=True)
            return
        try:
            commit = self.ctx.reader.commit(source, token)
        except SourceError as exc:
            rec["stalled"] = _error(exc.error) if exc.stalled else None
            rec["fetchError"] = None if exc.stalled else _error(exc.error)
            rec["credentialsStalled"] = False
            return
        rec.update(stalled=None, fetchError=None, seen=commit, credentialsStalled=False)
        pending = rec["pending"]
        if pending is not None:
            pending["commit"] = commit  # a newer commit rides on the one already waiting
        elif commit != rec["attempted"] or changed:
            rt = self.ctx.rt
            wait = (
                timing.commit_delay(rt, source.period)
                if rec["attempted"]
                else timing.delay(rt, timing.FIRST_SYNC)
            )
            rec["pending"] = {"commit": commit, "dueAt": self.ctx.now + wait}

    def _due(self, rec: Obj) -> str:
        now, rt, settings = self.ctx.now, self.ctx.rt, self.ctx.settings
        if rec["stalled"] or rec["fetchError"]:
            return ""
        pending = rec["pending"]
        if pending is not None:
            if now < pending["dueAt"]:
                return ""
            rec["pending"] = None
            return str(pending["commit"])
        if not rec["attempted"]:
            return ""
        since = now - rec["attemptedAt"]
        retry = rec["failed"] and since >= timing.retry_after(rt, settings)
        if retry or since >= timing.period(rt, settings.resync_seconds):
            return str(rec["attempted"])
        return ""

    def _scope(self, api_version: str, kind: str) -> bool | None:
        try:
            return self.api.kind(api_version, kind).namespaced
        except KeyError:
            return None

    def _sync(self, rec: Obj, who: Reconciler, source: Source, commit: str) -> None:
        rec.update(attempted=commit, attemptedAt=self.ctx.now)
        try:
            files = self.ctx.reader.files(source, commit)
        except SourceError as exc:
            rec.update(sourceErrors=[_error(exc.error)], failed=True)
            return
        parsed, errors = parse_files(files)
        declared = [d for d in parsed if d.managed]
        valid, invalid = validate(declared, self._scope, "" if who.root else who.namespace)
        errors += invalid
        rec["sourceErrors"] = [_error(e) for e in errors]
        if errors:
            rec["failed"] = True
            return
        applier = Applier(self.ctx.rt, self.cluster_key, who)
        released = [d for d in parsed if not d.managed]
        failures = applier.apply(valid, commit, source.status()) + applier.abandon(released)
        held, pruning = applier.prune(rec["inventory"], valid + released)
        failures += pruning
        rec.update(
            applied=commit,
            inventory=inventory(valid) + held,
            syncErrors=[_error(e) for e in failures],
            failed=bool(failures),
        )
        if not failures:
            rec.update(synced=commit, syncedAt=self.ctx.now)
        self._record_inventory(who, rec["inventory"])

    def _record_inventory(self, who: Reconciler, entries: list[Obj]) -> None:
        """Mirror the inventory in a ResourceGroup named after the sync, as Config Sync does."""
        resources = [
            {
                "group": e["apiVersion"].rpartition("/")[0],
                "kind": e["kind"],
                "namespace": e["namespace"],
                "name": e["name"],
            }
            for e in entries
        ]
        group = {
            "apiVersion": "kpt.dev/v1alpha1",
            "kind": "ResourceGroup",
            "metadata": {
                "name": who.name,
                "namespace": who.namespace,
                "labels": {"configsync.gke.io/declared-version": "v1"},
            },
            "spec": {"resources": resources},
        }
        # without the ResourceGroup CRD, the store record still holds the inventory
        with contextlib.suppress(KeyError, StatusError):
            self.api.apply(group)
