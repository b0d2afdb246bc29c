"""Who serves KubeRay's CRDs on a cluster: Config Sync (mlplat committed them before GKE's Ray
operator add-on; they must be let go of before they leave Git, or Config Sync prunes them and
every team's RayCluster with them) or the add-on."""

from __future__ import annotations

from typing import Any


def managed_by_config_sync(obj: dict[str, Any]) -> bool:
    """Config Sync's own test: `configmanagement.gke.io/managed: enabled` and a
    `configsync.gke.io/resource-id` naming this very object (an annotation copied from another
    object does not count)."""
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    namespace = f"_{metadata['namespace']}" if metadata.get("namespace") else ""
    resource_id = f"{group}_{str(obj.get('kind', '')).lower()}{namespace}_{metadata.get('name')}"
    return (
        annotations.get("configmanagement.gke.io/managed") == "enabled"
        and annotations.get("configsync.gke.io/resource-id") == resource_id
    )


def established(crd: dict[str, Any] | None) -> bool:
    """The CRD reports Established."""
    conditions = (crd or {}).get("status", {}).get("conditions", [])
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def served_by_addon(crd: dict[str, Any] | None) -> bool:
    """Established and not Config Sync's: mlplat commits no Ray CRD, so the add-on's."""
    return crd is not None and established(crd) and not managed_by_config_sync(crd)
