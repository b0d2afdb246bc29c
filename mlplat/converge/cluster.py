"""The private GKE cluster and its node pools: created once, updated field by field, waited on
until RUNNING; a create that ended in ERROR is cleaned up and retried."""

from __future__ import annotations

from typing import Any

from mlplat.converge import walk
from mlplat.converge.bindings import (
    RECREATE_ATTEMPTS,
    Calls,
    wait_container_op,
    wait_running_op,
)
from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import ConflictError, MlplatError, PermanentError, SpecError
from mlplat.gcp import container
from mlplat.gcp.waiting import poll
from mlplat.kinds import catalog
from mlplat.kinds.descriptor import value_at
from mlplat.plan import Action
from mlplat.render import cluster as render
from mlplat.render.desired import Desired
from mlplat.specs import naming
from mlplat.specs.versions import planned_version, version_issues

UP = ("RUNNING", "RECONCILING")  # the control plane serves (GKE upgrades it in place)
_IN_FLIGHT = ("PROVISIONING", "RECONCILING", "STOPPING")


def ensure_cluster(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """Create or update the cluster, then wait until it is RUNNING (the readiness gate).

    Ownership is proven by the parent: a cluster under the spec's name in the environment's
    own project (which `ensure_project` proved mlplat's) is mlplat's, whatever its labels say;
    labels edited by hand are a planned change (drift: "labels changed"), put back by
    `setResourceLabels`."""
    desired = render.cluster(ctx.platform, ctx.env, ctx.project)
    path = ctx.cluster_path
    observed = None if absent else container.get_cluster(ctx.target, path)
    if absent:  # planned before its project or APIs exist: another project may answer
        offer, where = _borrowed_offer(ctx)
    else:
        offer, where = _offered_versions(ctx, observed), ""
    change = catalog.CLUSTER.plan(desired, observed)
    if ctx.dry_run:
        if offer is None:
            detail = "versions checked once the project exists"
            return report(ctx, change, applied=False, detail=detail)
        version = (observed or {}).get("currentMasterVersion") or planned_version(
            ctx.spec, ctx.env_name, offer
        )
        seen = f" (GKE's offer as {where} sees it)" if where else ""
        return report(ctx, change, applied=False, detail=f"GKE {version}{seen}")
    # An update needs the cluster to itself; otherwise a control plane that upgrades itself
    # (RECONCILING) is up: the fleet and Config Sync go on, the node pools wait for it.
    up = ("RUNNING",) if change.action is Action.UPDATE else UP
    what = f"gke/cluster {desired.name}"
    detail = ""
    for _ in range(RECREATE_ATTEMPTS + 1):
        if observed is None:
            _create(ctx, desired)
        elif observed.get("status") == "ERROR":
            detail = "a failed create was deleted and retried"
            ctx.log(f"{what}: in ERROR after a failed create; recreating")
            deleted = container.delete_cluster(ctx.target, path)
            wait_container_op(ctx, deleted, f"{desired.name}: delete")
        elif observed.get("status") in _IN_FLIGHT and observed.get("status") not in up:
            wait_running_op(ctx, path, None, what)
        observed = _wait_settled(ctx, path, what, up)
        if observed is not None and observed.get("status") in up:
            break
    else:
        raise PermanentError(f"{what}: did not reach RUNNING")
    if change.action is Action.UPDATE:
        _update(ctx, desired, walk.update_calls(catalog.CLUSTER, change), observed)
    if observed.get("status") == "RECONCILING":
        ctx.log(f"{what}: its control plane is upgrading; node pools will wait for it")
        detail = ", ".join(filter(None, [detail, "control plane upgrading"]))
    version = f"GKE {observed.get('currentMasterVersion', '?')}"
    detail = ", ".join(filter(None, [version, detail]))
    return report(ctx, change, applied=change.action is not Action.NOOP, detail=detail)


def _offered_versions(ctx: EnvContext, observed: dict[str, Any] | None) -> dict[str, Any]:
    """GKE's server config, once the spec's channel and minimum version are checked against
    it (SpecError naming the file and field when it does not offer them)."""
    offer = container.get_server_config(ctx.target, ctx.cluster_parent)
    current = (observed or {}).get("currentMasterVersion")
    issues = version_issues(ctx.spec, ctx.env_name, offer, ctx.region, current)
    if issues:
        raise SpecError(issues)
    return offer


def _borrowed_offer(ctx: EnvContext) -> tuple[dict[str, Any] | None, str]:
    """GKE's offer in the environment's region, read in a project that can already answer
    (its own, else another environment's): getServerConfig needs a project with the Container
    API, so a brand-new environment's plan borrows one. The spec is checked against it."""
    others = [
        naming.project_id(ctx.platform, env)
        for name, env in sorted(ctx.spec.environments.items())
        if name != ctx.env_name and naming.region(ctx.platform, env) == ctx.region
    ]
    for project in [ctx.project, *others]:
        try:
            offer = container.get_server_config(
                ctx.target, f"projects/{project}/locations/{ctx.region}", once=True
            )
        except MlplatError:
            continue  # not there, or not able to answer yet
        issues = version_issues(ctx.spec, ctx.env_name, offer, ctx.region)
        if issues:
            raise SpecError(issues)
        return offer, f"project {project}"
    return None, ""


def _create(ctx: EnvContext, desired: Desired) -> None:
    try:
        operation = container.create_cluster(ctx.target, ctx.cluster_parent, desired.create_body())
    except ConflictError:
        return  # an earlier run's create is in flight: waited on by the caller
    wait_container_op(ctx, operation, f"gke/cluster {desired.name}: create", tolerate_failure=True)


def _wait_settled(
    ctx: EnvContext, path: str, what: str, up: tuple[str, ...]
) -> dict[str, Any] | None:
    """The cluster once its status is in `up`, or ERROR or DEGRADED (or it is gone)."""
    return poll(
        f"{what}: RUNNING",
        lambda: container.get_cluster(ctx.target, path),
        lambda c: c is None or c.get("status") in (*up, "ERROR", "DEGRADED"),
        deadline=ctx.deadlines.cluster,
    )


def _update(ctx: EnvContext, desired: Desired, calls: Calls, observed: dict[str, Any]) -> None:
    """One call per changed field of the descriptor's table, in its order."""
    for key, update in calls:
        what = f"gke/cluster {desired.name}: update {key}"
        if update.call == "setResourceLabels":
            labels = {**observed.get("resourceLabels", {}), **desired.body["resourceLabels"]}
            fingerprint = str(observed.get("labelFingerprint", ""))
            operation = container.set_labels(ctx.target, ctx.cluster_path, labels, fingerprint)
        elif update.call == "updateCluster":
            change = {update.field: value_at(desired.body, key)}
            operation = container.update_cluster(ctx.target, ctx.cluster_path, change)
        else:
            raise PermanentError(f"{what}: no such call {update.call}")
        wait_container_op(ctx, operation, what)


def pools_not_running(ctx: EnvContext) -> list[str]:
    """The declared node pools (system pool included) that are not RUNNING yet: missing,
    provisioning or waiting for the cluster (one read of the cluster)."""
    observed = container.get_cluster(ctx.target, ctx.cluster_path) or {}
    running = {p.get("name") for p in observed.get("nodePools", []) if p.get("status") == "RUNNING"}
    declared = render.every_pool(ctx.platform, ctx.env, ctx.project)
    return [pool.name for pool in declared if pool.name not in running]


def ensure_node_pool(ctx: EnvContext, desired: Desired, *, absent: bool = False) -> Outcome:
    """Create or update one node pool, then wait until it is RUNNING (the generic walk over
    its descriptor; its binding re-creates a pool whose create ended in ERROR)."""
    return walk.ensure(ctx, desired, absent=absent)
