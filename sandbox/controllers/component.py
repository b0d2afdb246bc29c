"""The `controllers` sandbox component: the simulated in-cluster controllers on one background
thread, reconciling every cluster each `settings.interval` (sooner after a change in a cluster).

Each pass: installs from the fleet's configmanagement specs, then per cluster Config Sync,
Policy Controller, the KubeRay operator (GKE's add-on, else a Deployment) and its RayClusters,
quotas and pods, then reports to GKE Hub. Admission hooks (ResourceQuota, Gatekeeper) are
registered per cluster. All state is in `rt.store`, so a restarted sandbox carries on where it
stopped.
"""

from __future__ import annotations

import functools
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from sandbox import latency
from sandbox.controllers import configsync_webhook, fleet, policy, quota
from sandbox.controllers.configsync import reconcile_config_sync
from sandbox.controllers.context import Context
from sandbox.controllers.gitsource import GitReader
from sandbox.controllers.kuberay_operator import running_operator
from sandbox.controllers.nodes import sync_nodes
from sandbox.controllers.pods import reconcile_pods
from sandbox.controllers.ray_addon import reconcile_ray_addon
from sandbox.controllers.raycluster import ray_pod_due, reconcile_rayclusters
from sandbox.controllers.settings import Settings
from sandbox.github import GitHub
from sandbox.k8s.backend import Backend, backend
from sandbox.k8s.cluster_registry import ClusterRegistry
from sandbox.k8s.hooks import Unsubscribe
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.runtime import Runtime

T = TypeVar("T")


class Controllers:
    """Config Sync, Policy Controller, KubeRay, ResourceQuota and pod lifecycles, simulated."""

    name = "controllers"

    def __init__(self, github: GitHub | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._reader = GitReader(github)
        self._rt: Runtime | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pass = threading.Lock()
        self._backend: Backend | None = None
        self._hooks: dict[str, list[Unsubscribe]] = {}
        self._reported: set[str] = set()

    def start(self, rt: Runtime) -> str:
        """Start reconciling; the component serves no URL ("")."""
        self._rt = rt
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-controllers", daemon=True)
        self._thread.start()
        return ""

    def stop(self) -> None:
        """Stop reconciling (after the pass in progress) and drop the admission hooks."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._thread = None
        with self._pass:
            for unsubscribe in (u for hooks in self._hooks.values() for u in hooks):
                unsubscribe()
            self._hooks = {}
            self._backend = None
            self._rt = None

    def wake(self) -> None:
        """Run a pass now rather than at the next interval."""
        self._wake.set()

    def run_once(self) -> None:
        """One pass over every cluster (also what the background thread runs)."""
        with self._pass:
            rt = self._rt
            if rt is None or rt.controllers_paused.is_set():
                return
            ctx = Context(rt, self.settings, self._reader, rt.now())
            keys = ClusterRegistry(rt).keys()
            self._hook(rt, keys)
            members = list(fleet.members(ctx))
            records: dict[str, dict[str, Any] | None] = {}
            for member in members:
                install = functools.partial(fleet.reconcile_member, ctx, member)
                records[member.membership] = self._guard(member.cluster_key, install)
            for key in keys:
                self._guard(key, functools.partial(self._cluster, ctx, key))
            for member in members:
                record = records.get(member.membership)
                if record is not None:
                    report = functools.partial(fleet.report, ctx, member, record)
                    self._guard(member.cluster_key, report)

    def _cluster(self, ctx: Context, key: str) -> None:
        rt = ctx.rt
        if fleet.installed(rt, key, "configSync"):
            record = rt.store.get(fleet.INSTALLS, key) or {}
            reconcile_config_sync(ctx, key, str(record.get("version") or ""))
        if fleet.installed(rt, key, "policy"):
            policy.reconcile_policy(ctx, key, fleet.audit_seconds(rt, key))
        operator = reconcile_ray_addon(ctx, key) or running_operator(ctx, key)
        reconcile_rayclusters(ctx, key, operator)
        quota.reconcile_quotas(ctx, key)
        sync_nodes(ctx, key)
        reconcile_pods(ctx, key, lambda pod: ray_pod_due(ctx, key, pod))

    def _hook(self, rt: Runtime, keys: list[str]) -> None:
        shared = backend(rt)
        if shared is not self._backend:  # hooks of a released backend went with it
            self._backend, self._hooks = shared, {}
        for key in keys:
            if key in self._hooks:
                continue
            api = ClusterApi(rt, key)
            active = self._policy_active(rt, key)
            self._hooks[key] = [
                api.on_change(lambda event, obj: self._wake.set()),
                api.admission(quota.admission(rt, key)),
                api.admission(policy.admission(rt, key, active)),
                api.admission(configsync_webhook.admission(rt, key, self._drift_guard(rt, key))),
            ]
        for key in [k for k in self._hooks if k not in keys]:
            for unsubscribe in self._hooks.pop(key):
                unsubscribe()

    @staticmethod
    def _policy_active(rt: Runtime, key: str) -> Callable[[], bool]:
        return lambda: fleet.installed(rt, key, "policy")

    @staticmethod
    def _drift_guard(rt: Runtime, key: str) -> Callable[[], bool | None]:
        return lambda: fleet.prevents_drift(rt, key)

    def _guard(self, key: str, work: Callable[[], T]) -> T | None:
        """Run one cluster's work; a failure is reported once on stderr and does not stop the
        other clusters. Nothing once the controllers are paused or stopping, even mid-pass: a
        pass over 10 clusters of 100 teams' syncs took minutes, and `stop` waits for it."""
        rt = self._rt
        if rt is None or rt.controllers_paused.is_set() or self._stop.is_set():
            return None
        try:
            with latency.subject(key):
                return work()
        except Exception as exc:
            signature = f"{key}:{type(exc).__name__}:{exc}"
            if signature not in self._reported:
                self._reported.add(signature)
                print(f"sandbox controllers: {key}:", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
            return None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._guard("controllers", self.run_once)
            self._wake.wait(self.settings.interval)
            self._stop.wait(self.settings.interval / 5)  # writes of the pass wake it: pace it
