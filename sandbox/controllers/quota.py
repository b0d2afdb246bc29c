"""ResourceQuota for Pods: admission (the sum of requests of the namespace's live Pods plus the
new one must stay within every quota's `spec.hard`) and the quota controller's `status.used`.

Tracked: `pods`/`count/pods`, `requests.<r>` (and bare `cpu`, `memory`, `ephemeral-storage`),
`limits.<r>`. Pods that Succeeded or Failed do not count.
"""

from __future__ import annotations

from typing import Any

from sandbox.controllers.context import Context
from sandbox.controllers.quantities import format_quantity, parse_quantity, pod_resources
from sandbox.controllers.statuspatch import write_status
from sandbox.k8s.backend import backend
from sandbox.k8s.clusterapi import ClusterApi
from sandbox.k8s.errors import StatusError
from sandbox.k8s.hooks import AdmissionFn, Denied
from sandbox.k8s.identity import UserInfo
from sandbox.runtime import Runtime

Obj = dict[str, Any]
QUOTAS = "core/resourcequotas"
PODS = "core/pods"
_BARE = ("cpu", "memory", "ephemeral-storage")
_TERMINAL = ("Succeeded", "Failed")


def tracked(resource: str) -> bool:
    """Whether a quota resource is about Pods."""
    return resource in ("pods", "count/pods", *_BARE) or resource.startswith(
        ("requests.", "limits.")
    )


def usage(pod: Obj, resource: str) -> float:
    """What a pod counts against a (tracked) quota resource."""
    spec = pod.get("spec") or {}
    if resource in ("pods", "count/pods"):
        return 1.0
    if resource.startswith("limits."):
        return pod_resources(spec, "limits").get(resource.removeprefix("limits."), 0.0)
    return pod_resources(spec, "requests").get(resource.removeprefix("requests."), 0.0)


def _live(pods: list[Obj], skip: str = "") -> list[Obj]:
    return [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") not in _TERMINAL and p["metadata"]["name"] != skip
    ]


def used(quota: Obj, pods: list[Obj]) -> dict[str, float]:
    """The quota's tracked resources as the live pods use them."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    return {r: sum(usage(p, r) for p in pods) for r in hard if tracked(r)}


def _exceeded(quota: Obj, pod: Obj, pods: list[Obj]) -> str:
    hard = (quota.get("spec") or {}).get("hard") or {}
    now = used(quota, pods)
    over = []
    for resource, limit in sorted(hard.items()):
        wanted = usage(pod, resource) if tracked(resource) else 0.0
        if not wanted:
            continue
        try:
            limited = parse_quantity(limit)
        except ValueError:
            continue
        if now.get(resource, 0.0) + wanted > limited:
            over.append((resource, wanted, now.get(resource, 0.0), limited))
    if not over:
        return ""

    def show(index: int) -> str:
        return ",".join(f"{r[0]}={format_quantity(r[0], r[index])}" for r in over)

    name = quota["metadata"]["name"]
    return f"exceeded quota: {name}, requested: {show(1)}, used: {show(2)}, limited: {show(3)}"


def admission(rt: Runtime, cluster_key: str) -> AdmissionFn:
    """Pod admission against the namespace's ResourceQuotas."""

    def admit(operation: str, obj: Obj, old: Obj | None, user: UserInfo) -> list[str] | None:
        if operation != "CREATE" or obj.get("kind") != "Pod" or obj.get("apiVersion") != "v1":
            return None
        objects = backend(rt).objects(cluster_key)
        metadata = obj["metadata"]
        namespace = metadata.get("namespace", "")
        quotas = objects.select(QUOTAS, namespace)
        if not quotas:
            return None
        pods = _live(objects.select(PODS, namespace), skip=metadata.get("name", ""))
        problems = [text for quota in quotas if (text := _exceeded(quota, obj, pods))]
        if problems:
            raise Denied(f'pods "{metadata.get("name", "")}" is forbidden: ' + "; ".join(problems))
        return None

    return admit


def reconcile_quotas(ctx: Context, cluster_key: str) -> None:
    """Every ResourceQuota's status: `hard` as declared, `used` by live pods."""
    api = ClusterApi(ctx.rt, cluster_key, manager="resourcequota-controller")
    objects = backend(ctx.rt).objects(cluster_key)
    for quota in objects.select(QUOTAS):
        namespace = quota["metadata"]["namespace"]
        hard = dict((quota.get("spec") or {}).get("hard") or {})
        pods = _live(objects.select(PODS, namespace))
        shown = {r: format_quantity(r, v) for r, v in used(quota, pods).items()}
        status = {"hard": hard, "used": shown}
        try:
            write_status(api, {"apiVersion": "v1", "kind": "ResourceQuota", **quota}, status)
        except (StatusError, KeyError):
            continue
