"""GKE: clusters, node pools and their operations (one operation at a time per cluster)."""

from __future__ import annotations

from typing import Any

from google.cloud import container_v1

from mlplat.gcp import clients
from mlplat.gcp.convert import from_dict, to_dict
from mlplat.gcp.errors import get_or_none, guarded
from mlplat.gcp.waiting import RETRYABLE_CODES, OperationFailedError, poll
from mlplat.retry import DEFAULT_POLICY, ONCE
from mlplat.target import Target

DONE = container_v1.Operation.Status.DONE


def cluster_path(project: str, location: str, name: str) -> str:
    return f"projects/{project}/locations/{location}/clusters/{name}"


def location_of(cluster: str) -> str:
    """`projects/P/locations/L` of a cluster path."""
    return cluster.split("/clusters/", 1)[0]


def _short(cluster: str) -> str:
    return cluster.rsplit("/", 1)[-1]


def get_cluster(target: Target, cluster: str) -> dict[str, Any] | None:
    """The cluster (a full path) as Google's JSON, server defaults included, or None."""
    found = get_or_none(
        f"gke/cluster {_short(cluster)}: get",
        lambda: clients.clusters(target).get_cluster(name=cluster),
    )
    return None if found is None else to_dict(found)


def get_server_config(target: Target, parent: str, *, once: bool = False) -> dict[str, Any]:
    """GKE's offer in `projects/P/locations/L`: valid versions, channels and their defaults.
    `once`: a single try (a lookup that may fail, e.g. in a project without the Container API,
    whose SERVICE_DISABLED would otherwise be waited out as propagation)."""
    found = guarded(
        f"gke server config of {parent.rsplit('/', 1)[-1]}: get",
        lambda: clients.clusters(target).get_server_config(name=parent),
        policy=ONCE if once else DEFAULT_POLICY,
    )
    return to_dict(found)


def create_cluster(target: Target, parent: str, body: dict[str, Any]) -> str:
    """Start creating the cluster in `projects/P/locations/L`; returns the operation name."""
    message = from_dict(container_v1.Cluster, body)
    operation = guarded(
        f"gke/cluster {body['name']}: create",
        lambda: clients.clusters(target).create_cluster(parent=parent, cluster=message),
    )
    return str(operation.name)


def update_cluster(target: Target, cluster: str, update: dict[str, Any]) -> str:
    """Send one ClusterUpdate (camelCase JSON); returns the operation name."""
    message = from_dict(container_v1.ClusterUpdate, update)
    operation = guarded(
        f"gke/cluster {_short(cluster)}: update {', '.join(update)}",
        lambda: clients.clusters(target).update_cluster(name=cluster, update=message),
    )
    return str(operation.name)


def set_labels(target: Target, cluster: str, labels: dict[str, str], fingerprint: str) -> str:
    """Replace the cluster's resource labels (the fingerprint guards concurrent edits)."""
    request = container_v1.SetLabelsRequest(
        name=cluster, resource_labels=labels, label_fingerprint=fingerprint
    )
    operation = guarded(
        f"gke/cluster {_short(cluster)}: set labels",
        lambda: clients.clusters(target).set_labels(request=request),
    )
    return str(operation.name)


def get_node_pool(target: Target, cluster: str, pool: str) -> dict[str, Any] | None:
    """The node pool of `cluster` (a full cluster path), or None."""
    found = get_or_none(
        f"gke/node-pool {pool}: get",
        lambda: clients.clusters(target).get_node_pool(name=f"{cluster}/nodePools/{pool}"),
    )
    return None if found is None else to_dict(found)


def create_node_pool(target: Target, cluster: str, body: dict[str, Any]) -> str:
    """Start creating a node pool in `cluster` (a full cluster path)."""
    pool = from_dict(container_v1.NodePool, body)
    operation = guarded(
        f"gke/node-pool {body['name']}: create",
        lambda: clients.clusters(target).create_node_pool(parent=cluster, node_pool=pool),
    )
    return str(operation.name)


# A node pool setting with a call of its own → its request, its message, the client method.
_POOL_SETTERS: dict[str, tuple[type[Any], type[Any], str]] = {
    "autoscaling": (
        container_v1.SetNodePoolAutoscalingRequest,
        container_v1.NodePoolAutoscaling,
        "set_node_pool_autoscaling",
    ),
    "management": (
        container_v1.SetNodePoolManagementRequest,
        container_v1.NodeManagement,
        "set_node_pool_management",
    ),
}


def set_node_pool(
    target: Target, cluster: str, pool: str, setting: str, value: dict[str, Any]
) -> str:
    """Start setting the pool's `autoscaling` or `management` (each has its own call)."""
    request_type, message_type, method = _POOL_SETTERS[setting]
    request = request_type(
        name=f"{cluster}/nodePools/{pool}", **{setting: from_dict(message_type, value)}
    )
    operation = guarded(
        f"gke/node-pool {pool}: set {setting}",
        lambda: getattr(clients.clusters(target), method)(request=request),
    )
    return str(operation.name)


def update_node_pool(target: Target, cluster: str, pool: str, fields: dict[str, Any]) -> str:
    """UpdateNodePool with the given camelCase fields (labels, taints, resourceLabels…)."""
    body = {"name": f"{cluster}/nodePools/{pool}", **fields}
    request = from_dict(container_v1.UpdateNodePoolRequest, body)
    operation = guarded(
        f"gke/node-pool {pool}: update {', '.join(fields)}",
        lambda: clients.clusters(target).update_node_pool(request=request),
    )
    return str(operation.name)


def running_operation(target: Target, cluster: str, node_pool: str | None = None) -> str | None:
    """An unfinished operation on the cluster (or on one of its pools), so that a resumed run
    waits on it rather than starting a second one."""
    response = guarded(
        f"gke operations of {_short(cluster)}: list",
        lambda: clients.clusters(target).list_operations(parent=location_of(cluster)),
    )
    suffix = cluster if node_pool is None else f"{cluster}/nodePools/{node_pool}"
    for operation in response.operations:
        if operation.status != DONE and operation.target_link.endswith(suffix):
            return str(operation.name)
    return None


def wait(target: Target, parent: str, operation: str, *, what: str, deadline: float) -> None:
    """Wait for a GKE operation in `projects/P/locations/L`; an error raises PermanentError."""
    name = f"{parent}/operations/{operation.rsplit('/', 1)[-1]}"

    def fetch() -> Any:
        return guarded(what, lambda: clients.clusters(target).get_operation(name=name))

    done = poll(what, fetch, lambda op: op.status == DONE, deadline=deadline)
    if done.error and done.error.message:
        raise OperationFailedError(
            f"{what}: operation failed: {done.error.message}",
            retryable=done.error.code in RETRYABLE_CODES,
        )
    if done.status_message:
        raise OperationFailedError(
            f"{what}: operation failed: {done.status_message}", retryable=False
        )


def delete_node_pool(target: Target, cluster: str, pool: str) -> str:
    operation = guarded(
        f"gke/node-pool {pool}: delete",
        lambda: clients.clusters(target).delete_node_pool(name=f"{cluster}/nodePools/{pool}"),
    )
    return str(operation.name)


def delete_cluster(target: Target, cluster: str) -> str:
    operation = guarded(
        f"gke/cluster {_short(cluster)}: delete",
        lambda: clients.clusters(target).delete_cluster(name=cluster),
    )
    return str(operation.name)
