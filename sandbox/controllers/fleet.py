"""The fleet side: the `configmanagement` feature's membership specs install Config Sync and
Policy Controller into the membership's cluster (after the modelled delays), keep the managed
`root-sync` as the spec says, and report back to GKE Hub what Config Sync sees.

Install state per cluster lives in `controllers.installs` (key: cluster key).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from sandbox.controllers import configsync_objects as cs
from sandbox.controllers import gatekeeper_objects as gk
from sandbox.controllers import settings as timing
from sandbox.controllers.applier import SYSTEM_NAMESPACE
from sandbox.controllers.context import Context
from sandbox.controllers.gatekeeper_bundles import bundle_constraints
from sandbox.controllers.reconciler import SYNCS, sync_key
from sandbox.controllers.sync_status import hub_report
from sandbox.fleet_gateway import cluster_of_membership
from sandbox.gcp.gkehub.configmanagement_state import DEFAULT_ACM_VERSION, SyncReport
from sandbox.gcp.gkehub.features import FEATURES
from sandbox.gcp.gkehub.policycontroller_state import (
    PolicyReport,
    forget_policy_report,
    hub_config,
    policy_report,
    set_policy_report,
)
from sandbox.gcp.gkehub.policycontroller_state import wanted as policy_wanted
from sandbox.gcp.gkehub.sync_reports import set_sync_report, sync_report
from sandbox.k8s.cluster_registry import ClusterRegistry
from sandbox.k8s.errors import StatusError
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.k8s.ip_ranges import CLUSTERS
from sandbox.runtime import Runtime

Obj = dict[str, Any]
INSTALLS = "controllers.installs"
INSTALLER = "configmanagement-operator"
FEATURE, LEGACY = "policycontroller", "configmanagement"  # who installed Policy Controller


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
    def policy_feature(self) -> Obj | None:
        """Policy Controller as the `policycontroller` feature asks for it (today's API)."""
        if self.policy_spec is None or not policy_wanted(self.policy_spec):
            return None
        content = hub_config(self.policy_spec).get("policyContent") or {}
        library = (content.get("templateLibrary") or {}).get("installation", "ALL")
        return {
            "templateLibraryInstalled": library != "NOT_INSTALLED",
            "version": self.policy_spec["policycontroller"].get("version") or self.version,
            "bundles": dict(content.get("bundles") or {}),
            "auditIntervalSeconds": hub_config(self.policy_spec).get("auditIntervalSeconds"),
        }

    @property
    def policy_legacy(self) -> Obj | None:
        """Policy Controller inside `configmanagement` (accepted before 1.21 only)."""
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
    config_sync = member.config_sync
    sync_state = record["configSync"]
    if _component(ctx, sync_state, config_sync is not None, timing.CONFIG_SYNC_INSTALL):
        _apply_all(api, cs.base_objects(member.version))
        sync_state["installed"] = True
    sync_state["preventDrift"] = bool((config_sync or {}).get("preventDrift"))
    if sync_state.get("installed") and config_sync is not None:
        wanted = json.dumps(config_sync, sort_keys=True)
        if sync_state.get("rootSpec") != wanted:
            api.apply(cs.root_sync(config_sync))
            sync_state["rootSpec"] = wanted
    record["policy"] = _reconcile_policy(ctx, api, member, record["policy"])
    if json.dumps(record, sort_keys=True) != before:
        store.put(INSTALLS, member.cluster_key, record)
    return record


def _reconcile_policy(ctx: Context, api: ClusterApi, member: Member, state: Obj) -> Obj:
    """Policy Controller's install, owned by the API that installed it: `policycontroller`
    (FEATURE) or `configmanagement` (LEGACY). When the feature is asked for on a cluster where
    the legacy API installed it, the feature takes the install over after the install delay
    (its state INSTALLING until then); an install whose owner no longer asks for it, and that
    nobody has taken over, is removed. So dropping the old shape before the new one is ACTIVE
    leaves the cluster unprotected, as it would on Google."""
    feature, legacy = member.policy_feature, member.policy_legacy
    if state.get("installed"):
        owner = state.setdefault("owner", LEGACY)  # records from before owners were kept
        if owner == LEGACY and feature is not None:
            if _component(ctx, state.setdefault("adopt", {}), True, timing.POLICY_INSTALL):
                state.update(owner=FEATURE, adopt={})
        elif owner == FEATURE and feature is None and legacy is not None:
            state["owner"] = LEGACY
        wanted = feature if state["owner"] == FEATURE else legacy
        if wanted is None:
            _uninstall_policy(api)
            return {}
    else:
        wanted = feature or legacy
        if wanted is None:
            return {}
        if _component(ctx, state, True, timing.POLICY_INSTALL):
            _apply_all(api, gk.base_objects(str(wanted.get("version") or member.version)))
            state.update(installed=True, owner=FEATURE if feature is not None else LEGACY)
    audit = wanted.get("auditIntervalSeconds")
    if audit is None:
        state.pop("auditSeconds", None)
    else:
        state["auditSeconds"] = float(audit)
    library = wanted.get("templateLibraryInstalled", True)
    if state.get("installed") and library and not state.get("library"):
        _apply_all(api, gk.template_library())
        state["library"] = True
    if state.get("installed") and (wanted.get("bundles") or state.get("bundles")):
        state["bundles"] = _reconcile_bundles(api, wanted.get("bundles") or {}, state)
    return state


def _reconcile_bundles(api: ClusterApi, wanted: Obj, state: Obj) -> list[str]:
    """The bundles whose constraints are in the cluster, after adding the wanted ones whose
    constraint kinds exist (the template controller makes them) and removing the others."""
    installed = set(state.get("bundles") or [])
    for bundle in sorted(set(wanted) - installed):
        exempted = list((wanted[bundle] or {}).get("exemptedNamespaces") or [])
        try:
            _apply_all(api, bundle_constraints(bundle, exempted))
        except (KeyError, StatusError):
            continue  # its constraint kind is not served yet: the next pass tries again
        installed.add(bundle)
    for bundle in sorted(installed - set(wanted)):
        for obj in bundle_constraints(bundle, []):
            with contextlib.suppress(KeyError):
                api.delete(obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
        installed.discard(bundle)
    return sorted(installed)


def _uninstall_policy(api: ClusterApi) -> None:
    """Gatekeeper's deployments go (admission and audit stop); its CRDs, and with them the
    templates and constraints Config Sync manages, stay."""
    for obj in gk.base_objects(""):
        if obj["kind"] == "Deployment":
            api.delete("apps/v1", "Deployment", obj["metadata"]["name"], gk.NAMESPACE)


def _policy_report(member: Member, record: Obj) -> PolicyReport:
    """What the `policycontroller` feature reports: ACTIVE once its own install is up."""
    policy = record["policy"]
    ours = policy.get("installed") and policy.get("owner") == FEATURE
    if member.policy_feature is None:
        return {"state": "ACTIVE" if ours else "NOT_INSTALLED"}
    library = bool(member.policy_feature.get("templateLibraryInstalled", True))
    if not ours or (library and not policy.get("library")):
        return {"state": "INSTALLING"}
    installed = set(policy.get("bundles") or [])
    bundles = {
        name: "ACTIVE" if name in installed else "INSTALLING"
        for name in member.policy_feature.get("bundles") or {}
    }
    found: PolicyReport = {
        "state": "ACTIVE",
        "templateLibrary": "ACTIVE" if library else "NOT_INSTALLED",
    }
    if bundles:
        found["bundles"] = bundles
    return found


def report(ctx: Context, member: Member, record: Obj) -> None:
    """Tell GKE Hub what Config Sync and Policy Controller show in the cluster (when changed)."""
    current = policy_report(ctx.rt, member.membership)[0]
    if member.policy_spec is not None:
        wanted_policy = _policy_report(member, record)
        if current != wanted_policy:
            set_policy_report(ctx.rt, member.membership, wanted_policy)
    elif current is not None:  # no spec (the feature went): a new one starts from nothing
        forget_policy_report(ctx.rt, member.membership)
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


def prevents_drift(rt: Runtime, cluster_key: str) -> bool | None:
    """Whether Config Sync's admission webhook refuses hand edits in a cluster (preventDrift);
    None when Config Sync is not installed there."""
    state = (rt.store.get(INSTALLS, cluster_key) or {}).get("configSync") or {}
    return bool(state.get("preventDrift")) if state.get("installed") else None


def audit_seconds(rt: Runtime, cluster_key: str) -> float | None:
    """The Policy Controller audit period the spec asks for in a cluster (None: the default)."""
    found = ((rt.store.get(INSTALLS, cluster_key) or {}).get("policy") or {}).get("auditSeconds")
    return None if found is None else float(found)
