"""The adapter-bound half of each managed kind: how it is read (one, and every one in its
parent), created, updated and deleted on a target. The pure half is in `mlplat.kinds`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlplat.converge.cluster_software import cluster_api
from mlplat.converge.context import EnvContext, restarting
from mlplat.errors import ConflictError, PermanentError
from mlplat.gcp import compute, container, fleet, iam, projects
from mlplat.gcp.waiting import OperationFailedError, poll
from mlplat.k8s import objects as k8s
from mlplat.kinds.descriptor import Update, pick
from mlplat.render import network as render_network
from mlplat.render.desired import Desired
from mlplat.specs import naming

Observed = dict[str, Any]
Calls = Sequence[tuple[str, Update]]  # `updates` keys with their calls, in the table's order
RECREATE_ATTEMPTS = 2  # how often a create that ended in ERROR is deleted and started again
RBAC = "rbac.authorization.k8s.io/v1"


def _same(_ctx: EnvContext, name: str) -> str:
    return name


@dataclass(frozen=True)
class Binding:
    """How one kind is reached in an environment (None where mlplat never does that):

    - `read`: one resource by name, None when absent;
    - `create`, `update` (the calls its descriptor's table names), `delete` (by name, waited
      on until done);
    - `settle`: instead of `create`, make it exist and wait until it is ready (resuming or
      re-creating what an earlier run left), returning it as observed;
    - `members`: every one inside its parent, from one batch read, as (name, observed), named
      as findings name them; `listed_as` gives a declared name in that form."""

    read: Callable[[EnvContext, str], Observed | None]
    create: Callable[[EnvContext, Desired], None] | None = None
    update: Callable[[EnvContext, Desired, Calls, Observed], None] | None = None
    delete: Callable[[EnvContext, str], None] | None = None
    settle: Callable[[EnvContext, Desired, Observed | None], Observed | None] | None = None
    members: Callable[[EnvContext], list[tuple[str, Observed]]] | None = None
    listed_as: Callable[[EnvContext, str], str] = _same


# Compute Engine: every collection has the same verbs.


def compute_binding(kind: compute.Kind, where: Callable[[EnvContext], compute.Where]) -> Binding:
    """A Compute collection's binding; `where`: the place of the environment's resources."""

    def read(ctx: EnvContext, name: str) -> Observed | None:
        return compute.get(ctx.target, kind, where(ctx), name)

    def create(ctx: EnvContext, desired: Desired) -> None:
        place, what = where(ctx), f"compute/{kind.name} {desired.name}"

        def once() -> None:
            operation = compute.in_flight(ctx.target, place, desired.name)  # a crashed run's
            if operation is None:
                try:
                    operation = compute.insert(ctx.target, kind, place, desired.create_body())
                except PermanentError as exc:
                    if not compute.is_conflict(exc):
                        raise
                    operation = compute.in_flight(ctx.target, place, desired.name)
                    if operation is None:
                        return  # created meanwhile
            _wait(ctx, place, operation, f"{what}: create")

        restarting(ctx, f"{what}: create", once)  # a failed insert leaves nothing behind

    def update(ctx: EnvContext, desired: Desired, calls: Calls, observed: Observed) -> None:
        place, what = where(ctx), f"compute/{kind.name} {desired.name}: update"
        patched = sorted(key for key, call in calls if call.call == "patch")
        if patched:
            body: dict[str, Any] = {key: desired.body[key] for key in patched}
            if "fingerprint" in observed:
                body["fingerprint"] = observed["fingerprint"]
            operation = compute.patch(ctx.target, kind, place, desired.name, body)
            _wait(ctx, place, operation, what)
        masked = [call.field for _, call in calls if call.call == "update"]
        if masked:
            body = pick(desired.body, masked)
            operation = compute.update(ctx.target, kind, place, desired.name, body, mask=masked)
            _wait(ctx, place, operation, what)

    def delete(ctx: EnvContext, name: str) -> None:
        place = where(ctx)
        operation = compute.delete(ctx.target, kind, place, name)
        if operation is not None:
            _wait(ctx, place, operation, f"compute/{kind.name} {name}: delete")

    return Binding(read, create, update, delete)


def _wait(ctx: EnvContext, where: compute.Where, operation: str, what: str) -> None:
    compute.wait(ctx.target, where, operation, what=what, deadline=ctx.deadlines.network)


def _global(ctx: EnvContext) -> compute.Where:
    return compute.Where(ctx.project)


def _regional(ctx: EnvContext) -> compute.Where:
    return compute.Where(ctx.project, region=ctx.region)


def _reservation_zone(ctx: EnvContext) -> compute.Where:
    return compute.Where(ctx.project, zone=render_network.reservation_zone(ctx.platform, ctx.env))


NETWORK = compute_binding(compute.NETWORK, _global)
ROUTER = compute_binding(compute.ROUTER, _regional)
RESERVATION = compute_binding(compute.RESERVATION, _reservation_zone)


def _subnet_place(ctx: EnvContext, name: str) -> tuple[compute.Where, str]:
    """A subnetwork named `region/name` (another region's) or `name` (the environment's)."""
    region, _, subnet = name.rpartition("/")
    return compute.Where(ctx.project, region=region or ctx.region), subnet


def _vpc_subnetworks(ctx: EnvContext) -> list[tuple[str, Observed]]:
    """The subnetworks of the environment's VPC in every region (one aggregated list)."""
    network = naming.network_name(ctx.platform, ctx.env)
    return [
        (f"{region}/{subnet['name']}", subnet)
        for region, subnet in compute.subnetworks_of(ctx.target, ctx.project)
        if str(subnet.get("network", "")).endswith(f"/global/networks/{network}")
    ]


def _delete_subnetwork(ctx: EnvContext, name: str) -> None:
    where, subnet = _subnet_place(ctx, name)
    operation = compute.delete(ctx.target, compute.SUBNETWORK, where, subnet)
    if operation is not None:
        _wait(ctx, where, operation, f"compute/subnetwork {name}: delete")


_SUBNET = compute_binding(compute.SUBNETWORK, _regional)
SUBNETWORK = Binding(
    read=_SUBNET.read,
    create=_SUBNET.create,
    update=_SUBNET.update,
    delete=_delete_subnetwork,
    members=_vpc_subnetworks,
    listed_as=lambda ctx, name: f"{ctx.region}/{name}",
)


# GKE: one operation at a time per cluster.


def wait_container_op(
    ctx: EnvContext, operation: str, what: str, *, tolerate_failure: bool = False
) -> None:
    try:
        container.wait(
            ctx.target, ctx.cluster_parent, operation, what=what, deadline=ctx.deadlines.cluster
        )
    except PermanentError as exc:
        if not tolerate_failure:
            raise
        ctx.log(f"{what}: {exc}")


def wait_running_op(ctx: EnvContext, path: str, pool: str | None, what: str) -> None:
    """Wait on the operation running on the cluster (or on its node pool `pool`), if any."""
    operation = container.running_operation(ctx.target, path, pool)
    if operation is not None:
        wait_container_op(ctx, operation, f"{what}: in flight", tolerate_failure=True)


def _read_pool(ctx: EnvContext, name: str) -> Observed | None:
    return container.get_node_pool(ctx.target, ctx.cluster_path, name)


def _settle_pool(ctx: EnvContext, desired: Desired, observed: Observed | None) -> Observed | None:
    """Create the pool (after the cluster's own operation), follow a create in flight, or
    delete and re-create one in ERROR; then wait until it is RUNNING."""
    path, what = ctx.cluster_path, f"gke/node-pool {desired.name}"
    for _ in range(RECREATE_ATTEMPTS + 1):
        if observed is not None and observed.get("status") == "RUNNING":
            return observed  # as read: no second read
        if observed is None:
            # a cluster-level operation (its control plane's own upgrade) blocks the create
            wait_running_op(ctx, path, None, f"{what}: the cluster's operation")
            try:
                operation = container.create_node_pool(ctx.target, path, desired.create_body())
                wait_container_op(ctx, operation, f"{what}: create", tolerate_failure=True)
            except ConflictError:
                wait_running_op(ctx, path, desired.name, what)
        elif observed.get("status") == "ERROR":
            ctx.log(f"{what}: in ERROR after a failed create; recreating")
            deleted = container.delete_node_pool(ctx.target, path, desired.name)
            wait_container_op(ctx, deleted, f"{what}: delete")
        elif observed.get("status") != "RUNNING":
            wait_running_op(ctx, path, desired.name, what)
        observed = poll(
            f"{what}: RUNNING",
            lambda: container.get_node_pool(ctx.target, path, desired.name),
            lambda p: p is None or p.get("status") in ("RUNNING", "ERROR", "RUNNING_WITH_ERROR"),
            deadline=ctx.deadlines.node_pool,
        )
        if observed is not None and observed.get("status") != "ERROR":
            return observed
    raise PermanentError(f"{what}: did not reach RUNNING")


def _update_pool(ctx: EnvContext, desired: Desired, calls: Calls, _observed: Observed) -> None:
    path, name = ctx.cluster_path, desired.name
    config: dict[str, Any] = desired.body["config"]
    for key, update in calls:
        what = f"gke/node-pool {name}: update {key}"
        if update.call in ("setAutoscaling", "setManagement"):
            operation = container.set_node_pool(
                ctx.target, path, name, update.field, desired.body[update.field]
            )
        elif update.call == "updateNodePool":
            value = config.get(key.split(".", 1)[1], None if update.wrapper else {})
            body = {update.field: {update.wrapper: value} if update.wrapper else value}
            operation = container.update_node_pool(ctx.target, path, name, body)
        else:
            raise PermanentError(f"{what}: no such call {update.call}")
        wait_container_op(ctx, operation, what)


def _pools_in_cluster(ctx: EnvContext) -> list[tuple[str, Observed]]:
    """The cluster's node pools (GKE's auto-provisioned ones are GKE's), from one cluster read."""
    observed = container.get_cluster(ctx.target, ctx.cluster_path) or {}
    return [
        (str(pool["name"]), pool)
        for pool in observed.get("nodePools", [])
        if not pool.get("autoscaling", {}).get("autoprovisioned")
    ]


def _delete_pool(ctx: EnvContext, name: str) -> None:
    operation = container.delete_node_pool(ctx.target, ctx.cluster_path, name)
    container.wait(
        ctx.target,
        ctx.cluster_parent,
        operation,
        what=f"gke/node-pool {name}: delete",
        deadline=ctx.deadlines.node_pool,
    )


NODE_POOL = Binding(
    read=_read_pool,
    update=_update_pool,
    delete=_delete_pool,
    settle=_settle_pool,
    members=_pools_in_cluster,
)
CLUSTER = Binding(read=lambda ctx, _name: container.get_cluster(ctx.target, ctx.cluster_path))


# The project's billing link.


def _read_billing(ctx: EnvContext, project: str) -> Observed:
    return {"billingAccountName": projects.billing_account(ctx.target, project)}


def _link_billing(ctx: EnvContext, desired: Desired) -> None:
    projects.link_billing(ctx.target, desired.name, str(desired.body["billingAccountName"]))


BILLING = Binding(
    read=_read_billing,
    create=_link_billing,
    update=lambda ctx, desired, _calls, _observed: _link_billing(ctx, desired),
)


# Fleet: features, memberships.


def created_then_ready(
    ctx: EnvContext,
    what: str,
    *,
    create: Callable[[], Any],
    wait: Callable[[Any], None],
    fetch: Callable[[], Observed | None],
    ready: Callable[[Observed], bool],
) -> None:
    """Create (an earlier run's create, or one meanwhile, is fine: then there is no operation
    of ours to follow) and wait until ready; started again when Hub removed what a failed
    create made (`restarting`)."""

    def once() -> None:
        try:
            operation = create()
        except ConflictError:
            operation = None
        if operation is not None:
            wait(operation)
        found = poll(
            f"{what}: ready",
            fetch,
            lambda r: r is None or ready(r),
            deadline=ctx.deadlines.membership,
        )
        if found is None:
            raise OperationFailedError(f"{what}: gone again after its create", retryable=True)

    restarting(ctx, f"{what}: create", once)


def _feature_id(name: str) -> str:
    return name.rsplit("/", 1)[-1]  # `<project>/<feature>`


def _read_feature(ctx: EnvContext, name: str) -> Observed | None:
    return fleet.get_feature(ctx.target, ctx.project, _feature_id(name))


def _create_feature(ctx: EnvContext, desired: Desired) -> None:
    feature_id = _feature_id(desired.name)
    what = f"fleet/feature {feature_id}"
    created_then_ready(
        ctx,
        what,
        create=lambda: fleet.create_feature(
            ctx.target, ctx.project, feature_id, desired.create_body()
        ),
        wait=lambda operation: fleet.wait_feature(
            ctx.target, operation, what=f"{what}: create", deadline=ctx.deadlines.membership
        ),
        fetch=lambda: fleet.get_feature(ctx.target, ctx.project, feature_id),
        ready=lambda f: _state(f, "resourceState") == "ACTIVE",
    )


def _state(resource: Observed, key: str) -> str:
    value = resource.get(key, {})
    return str(value.get("state", "")) if isinstance(value, dict) else ""


FEATURE = Binding(read=_read_feature, create=_create_feature)


# IAM, and the Kubernetes objects mlplat deletes (unmanaged ones, when pruning).


def wait_gone(what: str, fetch: Callable[[], object | None], deadline: float) -> None:
    """Poll until `fetch` finds nothing (`what`: the resource, as logs name it)."""
    poll(f"{what}: deleted", fetch, lambda found: found is None, deadline=deadline)


def _delete_membership(ctx: EnvContext, name: str) -> None:
    """Unregister the cluster from the fleet and wait until the membership is gone."""
    fleet.delete_membership(ctx.target, ctx.project, name)
    wait_gone(
        f"fleet/membership {name}",
        lambda: fleet.get_membership(ctx.target, ctx.project, name),
        ctx.deadlines.membership,
    )


MEMBERSHIP = Binding(
    read=lambda ctx, name: fleet.get_membership(ctx.target, ctx.project, name),
    delete=_delete_membership,
)
SERVICE_ACCOUNT = Binding(
    read=lambda ctx, email: iam.get_service_account(ctx.target, ctx.project, email),
    delete=lambda ctx, email: iam.delete_service_account(ctx.target, ctx.project, email),
)


def _delete_namespaced(api_version: str, kind: str) -> Callable[[EnvContext, str], None]:
    def delete(ctx: EnvContext, name: str) -> None:
        namespace, _, short = name.rpartition("/")
        k8s.delete(cluster_api(ctx), api_version, kind, short, namespace or None)

    return delete


def _read_namespaced(api_version: str, kind: str) -> Callable[[EnvContext, str], Observed | None]:
    def read(ctx: EnvContext, name: str) -> Observed | None:
        namespace, _, short = name.rpartition("/")
        return k8s.get(cluster_api(ctx), api_version, kind, short, namespace or None)

    return read


NAMESPACE = Binding(
    read=_read_namespaced("v1", "Namespace"), delete=_delete_namespaced("v1", "Namespace")
)
ROLE_BINDING = Binding(
    read=_read_namespaced(RBAC, "RoleBinding"), delete=_delete_namespaced(RBAC, "RoleBinding")
)
