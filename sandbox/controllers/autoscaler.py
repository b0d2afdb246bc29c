"""GKE's cluster autoscaler for a pod no node takes: a node more in an autoscaled pool whose
nodes would take it (the zone with fewest nodes, up to the pool's maximum), else node
auto-provisioning when its limits allow, with the autoscaler's event messages."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sandbox.controllers.context import Context
from sandbox.controllers.nodes import gke_cluster, nodes_per_zone, per_zone_max, provision, scale_up
from sandbox.controllers.pool_capacity import Capacity, _autoprovisioned, _misfit
from sandbox.controllers.quantities import pod_resources

Obj = dict[str, Any]
COMPUTE = "https://www.googleapis.com/compute/v1"


def _group_url(raw: Obj, zone: str, project: str) -> str:
    for url in raw.get("instanceGroupUrls") or []:
        if f"/zones/{zone}/" in str(url):
            return str(url).replace("instanceGroupManagers", "instanceGroups")
    return f"{COMPUTE}/projects/{project}/zones/{zone}/instanceGroups/{raw.get('name')}-grp"


def scale_up_for(
    ctx: Context, cluster_key: str, capacity: Capacity | None, pod: Obj
) -> tuple[str, str]:
    """(TriggeredScaleUp message, "") when a node was asked for, else ("", NotTriggerScaleUp
    message)."""
    cluster = gke_cluster(ctx, cluster_key)
    if capacity is None or cluster is None:
        return "", "pod didn't trigger scale-up:"
    spec = pod.get("spec") or {}
    requests = pod_resources(spec)
    project = cluster_key.split("/")[1]
    raws = {str(p.get("name")): p for p in cluster.get("nodePools") or []}
    counts = nodes_per_zone(ctx, cluster_key, cluster)
    reasons: Counter[str] = Counter()
    for pool in capacity.pools:
        raw = raws.get(pool.name) or {}
        why = _misfit(pool, spec, requests)
        ceiling = per_zone_max(raw)
        if why:
            reasons[why] += 1
            continue
        if ceiling is None or raw.get("status") not in ("RUNNING", "RECONCILING"):
            reasons["not ready for scale-up"] += 1
            continue
        zones = counts.get(pool.name, {})
        room = [z for z in raw.get("locations") or [] if zones.get(z, 0) < ceiling]
        if not room:
            reasons["max node group size reached"] += 1
            continue
        zone = min(room, key=lambda z: (zones.get(z, 0), z))
        scale_up(ctx, cluster_key, pool.name, zone)
        now = zones.get(zone, 0)
        url = _group_url(raw, zone, project)
        return f"pod triggered scale-up: [{{{url} {now}->{now + 1} (max: {ceiling})}}]", ""
    if capacity.autoprovisioning is not None:
        blocked = _autoprovisioned(capacity.autoprovisioning, spec, requests)
        if not blocked:
            zone = (cluster.get("locations") or [f"{cluster.get('location')}-a"])[0]
            selector = {str(k): str(v) for k, v in (spec.get("nodeSelector") or {}).items()}
            name = provision(ctx, cluster_key, zone, selector, requests)
            url = f"{COMPUTE}/projects/{project}/zones/{zone}/instanceGroups/{name}-grp"
            return f"pod triggered scale-up: [{{{url} 0->1 (max: 1000)}}]", ""
        reasons[blocked] += 1
    shown = ", ".join(f"{count} {why}" for why, count in sorted(reasons.items()))
    return "", f"pod didn't trigger scale-up: {shown}"
