"""What GKE checks about node service accounts before creating a cluster or node pool: each is
`default`, the project's Compute Engine default account, or an IAM service account that exists
and is visible (in realistic mode a just-created account is not, for a while). GKE's answer
otherwise: 400 `Service account "x" does not exist.`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.errors import invalid_argument
from sandbox.gcp.iam.account_store import service_account_visible
from sandbox.runtime import Runtime

_COMPUTE_DEFAULT = re.compile(r"^\d+-compute@developer\.gserviceaccount\.com$")


def check_node_service_account(rt: Runtime, value: str | None) -> None:
    """Refuse a node service account (email or `projects/P/serviceAccounts/EMAIL`) that does
    not exist or is not visible yet; empty and `default` mean the Compute default account."""
    if not value or value == "default":
        return
    email = value.rsplit("/", 1)[-1]
    if _COMPUTE_DEFAULT.match(email) or service_account_visible(rt, email):
        return
    raise invalid_argument(f'Service account "{value}" does not exist.')


def _node_defaults(autoscaling: Mapping[str, Any] | None) -> str | None:
    defaults = (autoscaling or {}).get("autoprovisioningNodePoolDefaults") or {}
    return defaults.get("serviceAccount")


def cluster_service_accounts(cluster: Mapping[str, Any]) -> Iterable[str | None]:
    """The node service accounts a CreateCluster `cluster` names."""
    yield (cluster.get("nodeConfig") or {}).get("serviceAccount")
    for pool in cluster.get("nodePools") or []:
        yield (pool.get("config") or {}).get("serviceAccount")
    yield _node_defaults(cluster.get("autoscaling"))


def check_cluster_service_accounts(rt: Runtime, cluster: Mapping[str, Any]) -> None:
    """Check every node service account of a CreateCluster `cluster`."""
    for value in cluster_service_accounts(cluster):
        check_node_service_account(rt, value)


def check_update_service_accounts(rt: Runtime, update: Mapping[str, Any]) -> None:
    """Check the auto-provisioning defaults' service account of a ClusterUpdate."""
    check_node_service_account(rt, _node_defaults(update.get("desiredClusterAutoscaling")))
