"""The Google APIs a sandbox serves, each on its own base URL (one port per real host)."""

from __future__ import annotations

from sandbox.api import GoogleApi
from sandbox.gcp import billing, cloudasset
from sandbox.gcp.compute import (
    derived,
    disks,
    firewalls,
    instances,
    networks,
    regions,
    reservations,
    routers,
    routes,
    subnetworks,
)
from sandbox.gcp.compute import operations as compute_operations
from sandbox.gcp.container import clusters, compute_deriver, nodepools, serverconfig, setters
from sandbox.gcp.container import operations as container_operations
from sandbox.gcp.gkehub import features, memberships
from sandbox.gcp.gkehub import operations as gkehub_operations
from sandbox.gcp.iam import keys, project_policies, service_accounts
from sandbox.gcp.resourcemanager import v1, v3
from sandbox.gcp.serviceusage import services

# GKE's node VMs, their disks, firewall rules and peerings: Compute serves them with its own.
derived.register(compute_deriver.DERIVER)


def google_apis() -> list[GoogleApi]:
    """Every emulated Google API; the name is the endpoints.json key and gcloud's override."""
    return [
        GoogleApi(
            "cloudresourcemanager",
            (
                v3.HANDLERS,
                project_policies.V3_HANDLERS,
                v1.HANDLERS,
                project_policies.V1_HANDLERS,
            ),
        ),
        GoogleApi("iam", (service_accounts.HANDLERS, keys.HANDLERS), legacy_errors=True),
        GoogleApi("cloudasset", (cloudasset.HANDLERS,)),
        GoogleApi("cloudbilling", (billing.HANDLERS,)),
        GoogleApi("serviceusage", (services.HANDLERS,)),
        GoogleApi(
            "compute",
            (
                compute_operations.HANDLERS,
                networks.HANDLERS,
                subnetworks.HANDLERS,
                routers.HANDLERS,
                reservations.HANDLERS,
                regions.HANDLERS,
                firewalls.HANDLERS,
                routes.HANDLERS,
                instances.HANDLERS,
                disks.HANDLERS,
            ),
            legacy_errors=True,
        ),
        GoogleApi(
            "container",
            (
                container_operations.HANDLERS,
                clusters.HANDLERS,
                setters.HANDLERS,
                nodepools.HANDLERS,
                serverconfig.HANDLERS,
            ),
        ),
        GoogleApi(
            "gkehub",
            (
                *gkehub_operations.OPERATION_HANDLERS,
                *memberships.PAIR,
                *features.PAIR,
            ),
        ),
    ]
