"""The Google APIs a sandbox serves, each on its own base URL (one port per real host)."""

from __future__ import annotations

from sandbox.api import GoogleApi
from sandbox.gcp import (
    billing,
    cloudasset,
    compute_disks,
    compute_firewalls,
    compute_instances,
    compute_networks,
    compute_operations,
    compute_regions,
    compute_reservations,
    compute_routers,
    compute_routes,
    compute_subnetworks,
    container_clusters,
    container_nodepools,
    container_ops,
    container_serverconfig,
    container_setters,
    gkehub_features,
    gkehub_memberships,
    gkehub_operations,
    iam,
    iam_keys,
    resourcemanager,
    resourcemanager_iam,
    resourcemanager_v1,
    serviceusage,
)


def google_apis() -> list[GoogleApi]:
    """Every emulated Google API; the name is the endpoints.json key and gcloud's override."""
    return [
        GoogleApi(
            "cloudresourcemanager",
            (
                resourcemanager.HANDLERS,
                resourcemanager_iam.V3_HANDLERS,
                resourcemanager_v1.HANDLERS,
                resourcemanager_iam.V1_HANDLERS,
            ),
        ),
        GoogleApi("iam", (iam.HANDLERS, iam_keys.HANDLERS), legacy_errors=True),
        GoogleApi("cloudasset", (cloudasset.HANDLERS,)),
        GoogleApi("cloudbilling", (billing.HANDLERS,)),
        GoogleApi("serviceusage", (serviceusage.HANDLERS,)),
        GoogleApi(
            "compute",
            (
                compute_operations.HANDLERS,
                compute_networks.HANDLERS,
                compute_subnetworks.HANDLERS,
                compute_routers.HANDLERS,
                compute_reservations.HANDLERS,
                compute_regions.HANDLERS,
                compute_firewalls.HANDLERS,
                compute_routes.HANDLERS,
                compute_instances.HANDLERS,
                compute_disks.HANDLERS,
            ),
            legacy_errors=True,
        ),
        GoogleApi(
            "container",
            (
                container_ops.HANDLERS,
                container_clusters.HANDLERS,
                container_setters.HANDLERS,
                container_nodepools.HANDLERS,
                container_serverconfig.HANDLERS,
            ),
        ),
        GoogleApi(
            "gkehub",
            (
                *gkehub_operations.OPERATION_HANDLERS,
                *gkehub_memberships.PAIR,
                *gkehub_features.PAIR,
            ),
        ),
    ]
