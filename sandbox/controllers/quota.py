"""ResourceQuota for Pods: admission (the sum of requests of the namespace's live Pods plus the
new one must stay within every quota's `spec.hard`) and the quota controller's `status.used`.

Tracked: `pods`/`count/pods`, `requests.<r>` (and bare `cpu`, `memory`, `ephemeral-storage`),
`limits.<r>`. Pods that Succeeded or Failed do not count. Quantities are exact and printed as
resource.Quantity prints them (`500m`, `1536Mi`), in the refusal as kube-apiserver words it:
`exceeded quota: <name>, requested: <r>=<q>, used: <r>=<q>, limited: <r>=<q>`, for the first
quota (by name) that a pod would exceed.
"""

from __future__ import annotations

from typing import Any

from sandbox.controllers.context import Context
from sandbox.controllers.quantities import (
    ZERO,
    Quantity,
    add,
    canonical,
    pod_quantities,
    quantity,
)
from sandbox.controllers.statuspatch import write_status
from sandbox.k8s.backend import backend
from sandbox.k8s.errors import StatusError
from sandbox.k8s.hooks import AdmissionFn, Denied
from sandbox.k8s.identity import UserInfo
from sandbox.k8s.inprocess_client import ClusterApi
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


def usage(pod: Obj, resource: str) -> Quantity:
    """What a pod counts against a (tracked) quota resource."""
    spec = pod.get("spec") or {}
    if resource in ("pods", "count/pods"):
        return quantity(1)
    if resource.startswith("limits."):
        return pod_quantities(spec, "limits").get(resource.removeprefix("limits."), ZERO)
    return pod_quantities(spec, "requests").get(resource.removeprefix("requests."), ZERO)


def _live(pods: list[Obj], skip: str = "") -> list[Obj]:
    return [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") not in _TERMINAL and p["metadata"]["name"] != skip
    ]


def used(quota: Obj, pods: list[Obj]) -> dict[str, Quantity]:
    """The quota's tracked resources as the live pods use them (0 when none does)."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    found: dict[str, Quantity] = {}
    for resource in hard:
        if not tracked(resource):
            continue
        total: Quantity | None = None
        for pod in pods:
            counted = usage(pod, resource)
            if counted.value:
                total = add(total, counted)
        found[resource] = total or ZERO
    return found


def _exceeded(quota: Obj, pod: Obj, pods: list[Obj]) -> str:
    hard = (quota.get("spec") or {}).get("hard") or {}
    now = used(quota, pods)
    over: list[tuple[str, tuple[Quantity, Quantity, Quantity]]] = []
    for resource, limit in sorted(hard.items()):
        wanted = usage(pod, resource) if tracked(resource) else ZERO
        if not wanted.value:
            continue
        try:
            limited = quantity(limit)
        except ValueError:
            continue
        if now[resource].value + wanted.value > limited.value:
            over.append((resource, (wanted, now[resource], limited)))
    if not over:
        return ""

    def show(index: int) -> str:
        return ",".join(f"{resource}={canonical(values[index])}" for resource, values in over)

    name = quota["metadata"]["name"]
    return f"exceeded quota: {name}, requested: {show(0)}, used: {show(1)}, limited: {show(2)}"


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
        ordered = sorted(quotas, key=lambda quota: quota["metadata"]["name"])
        problem = next((text for quota in ordered if (text := _exceeded(quota, obj, pods))), "")
        if problem:
            raise Denied(f'pods "{metadata.get("name", "")}" is forbidden: {problem}')
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
        shown = {r: canonical(v) for r, v in used(quota, pods).items()}
        status = {"hard": hard, "used": shown}
        try:
            write_status(api, {"apiVersion": "v1", "kind": "ResourceQuota", **quota}, status)
        except (StatusError, KeyError):
            continue
