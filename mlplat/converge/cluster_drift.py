"""Drift inside the cluster: every object mlplat committed to Git against the live one (only the
fields the manifest declares, so what Kubernetes and Config Sync add never shows), the sync
status of root-sync and each team's RepoSync, the health of each team's RayCluster, and the
unmanaged namespaces and RoleBindings (`unmanaged`).

Objects are read with one label-selected list call per kind, so the calls grow with kinds, not
objects.
Remediation applies the committed manifests server-side (what Config Sync would put back at
its next resync)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml
from kubernetes.dynamic import DynamicClient

from mlplat.converge import unmanaged
from mlplat.converge.cluster_software import cluster_api
from mlplat.converge.context import EnvContext
from mlplat.converge.findings import DriftClass, Finding
from mlplat.converge.sync_gate import CONFIG_SYNC, sync_errors
from mlplat.converge.teams import READY_CONDITIONS, ray_ready
from mlplat.k8s import objects as k8s
from mlplat.plan import diff
from mlplat.render import raycluster
from mlplat.render import repository as render
from mlplat.render.desired import MANAGED_BY_VALUE, PART_OF_LABEL
from mlplat.specs import naming
from mlplat.target import git_url

Manifest = dict[str, Any]
_NOT_COMPARED = ("apiVersion", "kind", "status")


def hydrated(ctx: EnvContext) -> list[Manifest]:
    """Every object of the environment's branch, as mlplat renders it now (as plain JSON
    values, the way they come back from the cluster)."""
    repo_url = git_url(ctx.target, ctx.platform.gitops.owner, ctx.platform.gitops.repository)
    documents = render.environment_documents(
        ctx.spec, ctx.env, project=ctx.project, repo_url=repo_url
    )
    plain: list[Manifest] = json.loads(json.dumps([d for docs in documents.values() for d in docs]))
    return plain


def _declared(manifest: Manifest) -> Manifest:
    meta = manifest.get("metadata", {})
    kept = {k: v for k, v in manifest.items() if k not in (*_NOT_COMPARED, "metadata")}
    kept["metadata"] = {k: meta[k] for k in ("labels", "annotations") if k in meta}
    return kept


def _resource(manifest: Manifest) -> str:
    meta = manifest["metadata"]
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"k8s/{manifest['kind']} {where}{meta['name']}"


Live = dict[tuple[str, str, str, str], Manifest]


def _key(obj: Manifest) -> tuple[str, str, str, str]:
    meta = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], meta.get("namespace") or "", meta["name"])


def _live(api: DynamicClient, desired: list[Manifest]) -> Live:
    """(apiVersion, kind, namespace, name) → live object, for every committed object and the
    RootSync. Objects carrying mlplat's part-of label are listed with one label-selected list
    per kind (a label removed out of band shows the object as missing); the few without it
    (KubeRay's CRDs, as upstream ships them) are read by name rather than listing every CRD
    of the cluster."""
    selector = f"{PART_OF_LABEL}={MANAGED_BY_VALUE}"

    def labelled(manifest: Manifest) -> bool:
        return bool(manifest["metadata"].get("labels", {}).get(PART_OF_LABEL) == MANAGED_BY_VALUE)

    index: Live = {}
    for api_version, kind in sorted({(m["apiVersion"], m["kind"]) for m in desired if labelled(m)}):
        for obj in k8s.list_(api, api_version, kind, label_selector=selector):
            index[_key(obj)] = obj
    for manifest in [m for m in desired if not labelled(m)]:
        api_version, kind, namespace, name = _key(manifest)
        found = k8s.get(api, api_version, kind, name, namespace or None)
        if found is not None:
            index[_key(manifest)] = found
    for obj in k8s.list_(api, CONFIG_SYNC, "RootSync"):
        index[_key(obj)] = obj
    return index


def object_drift(ctx: EnvContext, live: Live, desired: list[Manifest]) -> list[Finding]:
    """Committed objects that are missing or differ in a declared field."""
    found = []
    for manifest in desired:
        meta = manifest["metadata"]
        key = (manifest["apiVersion"], manifest["kind"], meta.get("namespace") or "", meta["name"])
        observed = live.get(key)
        resource = _resource(manifest)
        if observed is None:
            found.append(Finding(ctx.env_name, resource, DriftClass.MISSING))
            continue
        for change in diff(_declared(manifest), observed):
            found.append(
                Finding(
                    ctx.env_name,
                    resource,
                    DriftClass.CHANGED,
                    change.path,
                    _show(change.expected),
                    _show(change.actual),
                )
            )
    return found


def _show(value: Any) -> str:
    return "" if value is None else yaml.safe_dump(value, default_flow_style=True).strip()


def _syncs(ctx: EnvContext) -> Iterator[tuple[str, str, str]]:
    yield "RootSync", naming.CONFIG_MANAGEMENT_NAMESPACE, naming.ROOTSYNC_NAME
    for member in ctx.spec.teams_in(ctx.env_name):
        yield "RepoSync", member.namespace_name, naming.REPOSYNC_NAME


def sync_drift(ctx: EnvContext, live: Live) -> list[Finding]:
    """root-sync and the teams' RepoSyncs that report errors."""
    found = []
    for kind, namespace, name in _syncs(ctx):
        sync = live.get((CONFIG_SYNC, kind, namespace, name))
        errors = sync_errors((sync or {}).get("status", {})) if sync else ""
        if errors:
            found.append(
                Finding(
                    ctx.env_name,
                    f"k8s/{kind} {namespace}/{name}",
                    DriftClass.SYNC_ERROR,
                    "status",
                    "synced without errors",
                    errors,
                )
            )
    return found


def ray_drift(ctx: EnvContext, live: Live) -> list[Finding]:
    """Teams' RayClusters that exist but are not ready by KubeRay's conditions (a missing one
    is object drift)."""
    found = []
    for member in ctx.spec.teams_in(ctx.env_name):
        if not member.ray.enabled:
            continue
        name = raycluster.cluster_name(member)
        rc = live.get((raycluster.API_VERSION, "RayCluster", member.namespace_name, name))
        status = (rc or {}).get("status", {})
        if rc is None or ray_ready(status):
            continue
        reason = status.get("reason", "")
        shown = [f"state {status.get('state') or 'unknown'}{': ' + reason if reason else ''}"]
        for condition in status.get("conditions") or []:
            if condition.get("type") in READY_CONDITIONS and condition.get("status") != "True":
                shown.append(
                    f"{condition['type']} {condition.get('status')} ({condition.get('reason')})"
                )
        found.append(
            Finding(
                ctx.env_name,
                f"k8s/RayCluster {member.namespace_name}/{name}",
                DriftClass.UNHEALTHY,
                "status.conditions",
                " and ".join(f"{c} True" for c in READY_CONDITIONS),
                "; ".join(shown),
            )
        )
    return found


def cluster_findings(ctx: EnvContext) -> list[Finding]:
    """All drift inside the environment's cluster (which `cluster_reachable` says can be
    asked)."""
    desired = hydrated(ctx)
    live = _live(cluster_api(ctx), desired)
    return [
        *object_drift(ctx, live, desired),
        *sync_drift(ctx, live),
        *ray_drift(ctx, live),
        *unmanaged.cluster_findings(ctx, desired),
    ]


def remediate_objects(ctx: EnvContext, findings: list[Finding]) -> int:
    """Apply the committed manifest of every missing or changed object; returns how many."""
    wanted = {f.resource for f in findings if f.drift in (DriftClass.MISSING, DriftClass.CHANGED)}
    manifests = [m for m in hydrated(ctx) if _resource(m) in wanted]
    if not manifests:
        return 0
    api = cluster_api(ctx)
    # Namespaces first: the objects inside them need them.
    for manifest in sorted(manifests, key=lambda m: m["kind"] != "Namespace"):
        k8s.apply(api, manifest)
        ctx.log(f"{_resource(manifest)}: applied the committed manifest")
    return len(manifests)
