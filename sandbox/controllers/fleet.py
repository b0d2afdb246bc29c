"""The fleet side: the `configmanagement` feature's membership specs install Config Sync and
Policy Controller into the membership's cluster (after the modelled delays), keep the managed
`root-sync` as the spec says, and report back to GKE Hub what Config Sync sees.

Install state per cluster lives in `controllers.installs` (key: cluster key).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sandbox.controllers import configsync_objects as cs
from sandbox.controllers import gatekeeper_objects as gk
from sandbox.controllers import settings as timing
from sandbox.controllers.applier import SYSTEM_NAMESPACE
from sandbox.controllers.context import Context
from sandbox.controllers.reconciler import SYNCS, sync_key
from sandbox.controllers.sync_status import hub_report
from sandbox.fleet_gateway import cluster_of_membership
from sandbox.gcp.gkehub_features import FEATURES
from sandbox.gcp.gkehub_policy import PolicyReport, hub_config, policy_report, set_policy_report
from sandbox.gcp.gkehub_policy import wanted as policy_wanted
from sandbox.gcp.gkehub_state import DEFAULT_ACM_VERSION, SyncReport
from sandbox.gcp.gkehub_sync import set_sync_report, sync_report
from sandbox.k8s.clusterapi import ClusterApi
from sandbox.k8s.clusters import CLUSTERS, ClusterRegistry
from sandbox.runtime import Runtime

Obj = dict[str, Any]
INSTALLS = "controllers.installs"
INSTALLER = "configmanagement-operator"


@dataclass(frozen=True)
class Member:
    """A membership with a configmanagement and/or policycontroller spec, and its cluster."""

    membership: str  # projects/<number>/locations/global/memberships/<id>
    cluster_key: str
    spec: Obj  # the `configmanagement` MembershipSpec ({} when none)
    policy_spec: Obj | None = None  # the `policycontroller` MembershipFeatureSpec entry

    @property
    def version(self) -> str:
        return str(self.spec.get("version") or DEFAULT_ACM_VERSION)

    @property
    def config_sync(self) -> Obj | None:
        """The configSync spec when Config Sync is wanted."""
        found = self.spec.get("configSync")
        if not isinstance(found, dict):
            return None
        wanted = found.get("enabled", bool(found.get("git") or found.get("oci")))
        return found if wanted else None

    @property
    def policy_controller(self) -> Obj | None:
        """What Policy Controller should look like, from either API: the policycontroller
        feature (today's), or `configmanagement.policyController` (versions before 1.21)."""
        if self.policy_spec is not None and policy_wanted(self.policy_spec):
            config = hub_config(self.policy_spec)
            content = config.get("policyContent") or {}
            library = (content.get("templateLibrary") or {}).get("installation", "ALL")
            return {
                "templateLibraryInstalled": library != "NOT_INSTALLED",
                "version": self.policy_spec["policycontroller"].get("version") or self.version,
            }
        found = self.spec.get("policyController")
        if isinstance(found, dict) and found.get("enabled"):
            return {**found, "version": self.version}
        return None


def members(ctx: Context) -> Iterator[Member]:
    """Every READY membership with a configmanagement or policycontroller spec whose cluster
    has an API server."""
    registry = ClusterRegistry(ctx.rt)
    specs: dict[str, dict[str, Obj]] = {}
    for key, feature in ctx.rt.store.items(FEATURES):
        name = key.rsplit("/", 1)[-1]
        if name not in ("configmanagement", "policycontroller"):
            continue
        if (feature.get("resourceState") or {}).get("state") != "ACTIVE":
            continue
        for membership, spec in (feature.get("membershipSpecs") or {}).items():
            specs.setdefault(membership, {})[name] = dict(spec or {})
    for membership, found in specs.items():
        parts = membership.split("/")
        if len(parts) != 6:
            continue
        cluster = cluster_of_membership(ctx.rt, parts[1], parts[5])
        if cluster is not None and registry.exists(cluster):
            config = found.get("configmanagement", {}).get("configmanagement") or {}
            yield Member(membership, cluster, dict(config), found.get("policycontroller"))


def _component(ctx: Context, state: Obj, wanted: bool, key: str) -> bool:
    """Advance one component's install timer; True when it is due to be installed now."""
    if not wanted or state.get("installed"):
        return False
    if state.get("dueAt") is None:
        state["dueAt"] = ctx.now + timing.delay(ctx.rt, key)
    return bool(ctx.now >= state["dueAt"])


def _apply_all(api: ClusterApi, objects: list[Obj]) -> None:
    for obj in objects:
        api.apply(obj)


def reconcile_member(ctx: Context, member: Member) -> Obj:
    """Install what the spec asks for when due; keep `root-sync` as the spec says."""
    store = ctx.rt.store
    born = (store.get(CLUSTERS, member.cluster_key) or {}).get("created")
    record = store.get(INSTALLS, member.cluster_key) or {}
    before = json.dumps(record, sort_keys=True)
    if record.get("born") != born:  # a new cluster under the same name starts afresh
        record = {"born": born, "configSync": {}, "policy": {}}
    record.update(membership=member.membership, version=member.version)
    api = ClusterApi(ctx.rt, member.cluster_key, manager=INSTALLER)
    config_sync, policy = member.config_sync, member.policy_controller
    sync_state, policy_state = record["configSync"], record["policy"]
    if _component(ctx, sync_state, config_sync is not None, timing.CONFIG_SYNC_INSTALL):
        _apply_all(api, cs.base_objects(member.version))
        sync_state["installed"] = True
    if sync_state.get("installed") and config_sync is not None:
        wanted = json.dumps(config_sync, sort_keys=True)
        if sync_state.get("rootSpec") != wanted:
            api.apply(cs.root_sync(config_sync))
            sync_state["rootSpec"] = wanted
    if _component(ctx, policy_state, policy is not None, timing.POLICY_INSTALL):
        _apply_all(api, gk.base_objects(str((policy or {}).get("version") or member.version)))
        policy_state["installed"] = True
    library = policy is not None and policy.get("templateLibraryInstalled", True)
    if policy_state.get("installed") and library and not policy_state.get("library"):
        _apply_all(api, gk.template_library())
        policy_state["library"] = True
    if policy is None and policy_state:  # neither API asks for it any more: uninstalled
        if policy_state.get("installed"):
            _uninstall_policy(api)
        record["policy"] = {}
    if json.dumps(record, sort_keys=True) != before:
        store.put(INSTALLS, member.cluster_key, record)
    return record


def _uninstall_policy(api: ClusterApi) -> None:
    """Gatekeeper's deployments go (admission and audit stop); its CRDs, and with them the
    templates and constraints Config Sync manages, stay."""
    for obj in gk.base_objects(""):
        if obj["kind"] == "Deployment":
            api.delete("apps/v1", "Deployment", obj["metadata"]["name"], gk.NAMESPACE)


def _policy_report(member: Member, record: Obj) -> PolicyReport:
    policy = record["policy"]
    if member.policy_controller is None:
        return {"state": "ACTIVE" if policy.get("installed") else "NOT_INSTALLED"}
    library = bool(member.policy_controller.get("templateLibraryInstalled", True))
    if not policy.get("installed") or (library and not policy.get("library")):
        return {"state": "INSTALLING"}
    return {"state": "ACTIVE", "templateLibrary": "ACTIVE" if library else "NOT_INSTALLED"}


def report(ctx: Context, member: Member, record: Obj) -> None:
    """Tell GKE Hub what Config Sync and Policy Controller show in the cluster (when changed)."""
    if member.policy_spec is not None:
        wanted_policy = _policy_report(member, record)
        if policy_report(ctx.rt, member.membership)[0] != wanted_policy:
            set_policy_report(ctx.rt, member.membership, wanted_policy)
    if not member.spec:
        return
    root = ctx.rt.store.get(
        SYNCS, sync_key(member.cluster_key, "RootSync", SYSTEM_NAMESPACE, cs.ROOT_SYNC)
    )
    wanted = hub_report(
        root,
        installed=bool(record["configSync"].get("installed")),
        policy_installed=bool(record["policy"].get("installed")),
        version=member.version,
    )
    current, reported_at = sync_report(ctx.rt, member.membership)
    if reported_at is None or current != wanted:
        set_sync_report(ctx.rt, member.membership, cast(SyncReport, wanted))


def installed(rt: Runtime, cluster_key: str, component: str) -> bool:
    """Whether `configSync` or `policy` is installed in a cluster."""
    record = rt.store.get(INSTALLS, cluster_key) or {}
    return bool((record.get(component) or {}).get("installed"))
