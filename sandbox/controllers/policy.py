"""Policy Controller in a cluster: the template controller (a ConstraintTemplate gets its
constraint CRD), admission (deny, warn or dry-run per constraint) and the periodic audit that
reports violations in each constraint's status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.controllers import settings as timing
from sandbox.controllers.context import Context
from sandbox.controllers.crd_manifests import established
from sandbox.controllers.gatekeeper_match import enforcement_action, matches
from sandbox.controllers.gatekeeper_objects import (
    CONSTRAINTS_GROUP,
    TEMPLATE_API,
    constraint_crd,
)
from sandbox.controllers.gatekeeper_rules import RULES, violations
from sandbox.controllers.statuspatch import write_status
from sandbox.k8s.backend import backend
from sandbox.k8s.crds import cluster_kinds
from sandbox.k8s.errors import StatusError
from sandbox.k8s.hooks import AdmissionFn, Denied
from sandbox.k8s.identity import UserInfo
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.k8s.kinds import Kind
from sandbox.runtime import Runtime

Obj = dict[str, Any]
CONSTRAINT_API = f"{CONSTRAINTS_GROUP}/v1beta1"
CRD_API = "apiextensions.k8s.io/v1"
AUDITS = "controllers.audits"  # key: cluster key
WEBHOOK = 'admission webhook "validation.gatekeeper.sh" denied the request: '
VIOLATIONS_LIMIT = 20
_VOLATILE = ("resourceVersion", "managedFields", "generation")


class Gatekeeper:
    """Constraints of one cluster and what they say about objects."""

    def __init__(self, rt: Runtime, cluster_key: str) -> None:
        self.rt = rt
        self.cluster_key = cluster_key
        self.api = ClusterApi(rt, cluster_key, manager="gatekeeper")
        self._objects = backend(rt).objects(cluster_key)

    def constraints(self) -> list[Obj]:
        """Every constraint of an enforced kind."""
        found: list[Obj] = []
        for kind in RULES:
            try:
                found += self.api.list(CONSTRAINT_API, kind)
            except KeyError:
                continue
        return found

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        """A namespace's labels, None when it does not exist."""
        found = self._objects.get("core/namespaces", "", namespace)
        return None if found is None else dict(found["metadata"].get("labels") or {})

    def review(self, obj: Obj) -> list[tuple[Obj, str]]:
        """(constraint, message) for every violation of obj."""
        found = []
        for constraint in self.constraints():
            if matches(constraint, obj, self.namespace_labels):
                found += [(constraint, message) for message in violations(constraint, obj)]
        return found


def _settled(obj: Obj) -> Obj:
    metadata = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _VOLATILE}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": metadata}


def admission(rt: Runtime, cluster_key: str, active: Callable[[], bool]) -> AdmissionFn:
    """The validating webhook of a cluster; `active()` says whether Policy Controller runs."""

    def admit(operation: str, obj: Obj, old: Obj | None, user: UserInfo) -> list[str] | None:
        if not active() or (obj.get("metadata") or {}).get("deletionTimestamp"):
            return None
        if old is not None and _settled(obj) == _settled(old):
            return None  # status-only writes do not reach the webhook
        found = Gatekeeper(rt, cluster_key).review(obj)
        denied = [
            f"[{c['metadata']['name']}] {m}" for c, m in found if enforcement_action(c) == "deny"
        ]
        if denied:
            raise Denied(WEBHOOK + "\n".join(denied))
        return [
            f"[{c['metadata']['name']}] {m}" for c, m in found if enforcement_action(c) == "warn"
        ]

    return admit


def _by_pod(obj: Obj, operations: list[str], uid_field: str) -> list[Obj]:
    """What Gatekeeper's pods report on an object they enforce."""
    metadata = obj["metadata"]
    return [
        {
            "id": "gatekeeper-controller-manager-0",
            "observedGeneration": metadata.get("generation", 1),
            "operations": operations,
            "enforced": True,
            uid_field: metadata.get("uid"),
        }
    ]


def _template_kind(template: Obj) -> str:
    crd = ((template.get("spec") or {}).get("crd") or {}).get("spec") or {}
    return str((crd.get("names") or {}).get("kind") or "")


def reconcile_templates(ctx: Context, gatekeeper: Gatekeeper) -> None:
    """Each ConstraintTemplate's constraint CRD and status; CRDs of removed templates go."""
    api = gatekeeper.api
    try:
        templates = api.list(TEMPLATE_API, "ConstraintTemplate")
    except KeyError:
        return
    kinds = set()
    for template in templates:
        kind = _template_kind(template)
        if not kind:
            continue
        kinds.add(kind)
        name = f"{kind.lower()}.{CONSTRAINTS_GROUP}"
        if not established(api.get(CRD_API, "CustomResourceDefinition", name)):
            api.apply(constraint_crd(kind))
        status = {
            "created": True,
            "byPod": _by_pod(template, ["audit", "status", "webhook"], "templateUID"),
        }
        write_status(api, template, status)
    for found in api.list(
        CRD_API, "CustomResourceDefinition", label_selector="gatekeeper.sh/constraint=yes"
    ):
        if found["spec"]["names"]["kind"] not in kinds:
            api.delete(CRD_API, "CustomResourceDefinition", found["metadata"]["name"])


def _audit_kinds(ctx: Context, cluster_key: str, constraint: Obj) -> list[Kind]:
    """The served kinds a constraint's match names (Pods for wildcard kinds), once each."""
    match = (constraint.get("spec") or {}).get("match") or {}
    pairs = {
        (group, kind)
        for entry in match.get("kinds") or [{}]
        for group in entry.get("apiGroups") or ["*"]
        for kind in entry.get("kinds") or ["*"]
    }
    found: dict[tuple[str, str], Kind] = {}
    for served in cluster_kinds(backend(ctx.rt), cluster_key).kinds:
        for group, kind in pairs:
            named = kind == served.kind or (kind == "*" and served.kind == "Pod")
            if named and group in ("*", served.group):
                found.setdefault((served.group, served.kind), served)
    return list(found.values())


class _Snapshot:
    """The objects one audit pass looks at, each kind listed and each namespace read once
    however many constraints ask (a cluster of 100 teams has thousands)."""

    def __init__(self, gatekeeper: Gatekeeper) -> None:
        self.gatekeeper = gatekeeper
        self._lists: dict[tuple[str, str], list[Obj]] = {}
        self._labels: dict[str, dict[str, str] | None] = {}

    def objects(self, kind: Kind) -> list[Obj]:
        key = (kind.api_version, kind.kind)
        if key not in self._lists:
            self._lists[key] = self.gatekeeper.api.list(kind.api_version, kind.kind)
        return self._lists[key]

    def namespace_labels(self, namespace: str) -> dict[str, str] | None:
        if namespace not in self._labels:
            self._labels[namespace] = self.gatekeeper.namespace_labels(namespace)
        return self._labels[namespace]


def _audited(ctx: Context, snapshot: _Snapshot, constraint: Obj) -> list[Obj]:
    """Every violation of a constraint among the existing objects it matches."""
    found: list[Obj] = []
    action = enforcement_action(constraint)
    for kind in _audit_kinds(ctx, snapshot.gatekeeper.cluster_key, constraint):
        for obj in snapshot.objects(kind):
            if not matches(constraint, obj, snapshot.namespace_labels):
                continue
            metadata = obj["metadata"]
            for message in violations(constraint, obj):
                entry = {
                    "enforcementAction": action,
                    "group": kind.group,
                    "version": kind.version,
                    "kind": kind.kind,
                    "name": metadata["name"],
                    "message": message,
                }
                if metadata.get("namespace"):
                    entry["namespace"] = metadata["namespace"]
                found.append(entry)
    return found


def reconcile_constraints(
    ctx: Context, gatekeeper: Gatekeeper, audit_seconds: float | None = None
) -> None:
    """Constraint status: enforced by the webhook, and the audit's findings when it is due
    (every `audit_seconds` as the spec says, else the controllers' setting; 0: never)."""
    store = ctx.rt.store
    audit = store.get(AUDITS, gatekeeper.cluster_key) or {"at": 0.0}
    seconds = ctx.settings.audit_seconds if audit_seconds is None else audit_seconds
    due = bool(seconds) and ctx.now >= audit["at"] + timing.period(ctx.rt, seconds)
    snapshot = _Snapshot(gatekeeper)
    for constraint in gatekeeper.constraints():
        status = dict(constraint.get("status") or {})
        status["byPod"] = _by_pod(constraint, ["audit", "status", "webhook"], "constraintUID")
        if due:
            found = _audited(ctx, snapshot, constraint)
            status.update(
                auditTimestamp=ctx.stamp,
                totalViolations=len(found),
                violations=found[:VIOLATIONS_LIMIT],
            )
            if not found:
                status.pop("violations")
        try:
            write_status(gatekeeper.api, constraint, status)
        except (StatusError, KeyError):
            continue
    if due:
        store.put(AUDITS, gatekeeper.cluster_key, {"at": ctx.now})


def reconcile_policy(ctx: Context, cluster_key: str, audit_seconds: float | None = None) -> None:
    """One pass of Policy Controller in a cluster where it is installed."""
    gatekeeper = Gatekeeper(ctx.rt, cluster_key)
    reconcile_templates(ctx, gatekeeper)
    reconcile_constraints(ctx, gatekeeper, audit_seconds)
