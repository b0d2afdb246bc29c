"""The Google services the sandbox knows: titles, which need billing, dependencies, defaults.

Beyond the services described here, every API with a discovery document (shipped with
google-api-python-client) and a few without one (`anthos.googleapis.com` …) exist, as on Google;
any other name is unknown. Enabling a service enables what it depends on, as Google does
(container.googleapis.com brings Compute Engine, Container Registry, IAM, …).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

from sandbox.discovery import DOCUMENTS


@dataclass(frozen=True)
class ServiceInfo:
    """One service (API) that can be enabled on a project."""

    name: str
    title: str
    needs_billing: bool = False
    default_enabled: bool = False
    depends_on: tuple[str, ...] = ()
    heavy: bool = False  # the first enable also creates service agents: slower


_SERVICES = [
    ServiceInfo(
        "compute.googleapis.com",
        "Compute Engine API",
        needs_billing=True,
        heavy=True,
        depends_on=("oslogin.googleapis.com",),
    ),
    ServiceInfo(
        "container.googleapis.com",
        "Kubernetes Engine API",
        needs_billing=True,
        heavy=True,
        depends_on=(
            "compute.googleapis.com",
            "containerregistry.googleapis.com",
            "iam.googleapis.com",
            "iamcredentials.googleapis.com",
            "pubsub.googleapis.com",
        ),
    ),
    ServiceInfo("pubsub.googleapis.com", "Cloud Pub/Sub API"),
    ServiceInfo("gkehub.googleapis.com", "GKE Hub API", needs_billing=True),
    ServiceInfo(
        "anthosconfigmanagement.googleapis.com", "Anthos Config Management API", needs_billing=True
    ),
    ServiceInfo("gkeconnect.googleapis.com", "GKE Connect API", needs_billing=True),
    ServiceInfo("connectgateway.googleapis.com", "Connect Gateway API", needs_billing=True),
    ServiceInfo(
        "anthospolicycontroller.googleapis.com", "Policy Controller API", needs_billing=True
    ),
    ServiceInfo("mesh.googleapis.com", "Cloud Service Mesh API", needs_billing=True),
    ServiceInfo("artifactregistry.googleapis.com", "Artifact Registry API", needs_billing=True),
    ServiceInfo("containerregistry.googleapis.com", "Container Registry API", needs_billing=True),
    ServiceInfo("cloudbuild.googleapis.com", "Cloud Build API", needs_billing=True),
    ServiceInfo("secretmanager.googleapis.com", "Secret Manager API", needs_billing=True),
    ServiceInfo("cloudkms.googleapis.com", "Cloud Key Management Service (KMS) API"),
    ServiceInfo("dns.googleapis.com", "Cloud DNS API", needs_billing=True),
    ServiceInfo("servicenetworking.googleapis.com", "Service Networking API"),
    ServiceInfo("networkconnectivity.googleapis.com", "Network Connectivity API"),
    ServiceInfo("iam.googleapis.com", "Identity and Access Management (IAM) API"),
    ServiceInfo("iamcredentials.googleapis.com", "IAM Service Account Credentials API"),
    ServiceInfo("cloudasset.googleapis.com", "Cloud Asset API"),
    ServiceInfo("cloudresourcemanager.googleapis.com", "Cloud Resource Manager API"),
    ServiceInfo("cloudbilling.googleapis.com", "Cloud Billing API"),
    ServiceInfo("oslogin.googleapis.com", "Cloud OS Login API"),
    ServiceInfo("serviceusage.googleapis.com", "Service Usage API", default_enabled=True),
    ServiceInfo("servicemanagement.googleapis.com", "Service Management API", default_enabled=True),
    ServiceInfo("logging.googleapis.com", "Cloud Logging API", default_enabled=True),
    ServiceInfo("monitoring.googleapis.com", "Cloud Monitoring API", default_enabled=True),
    ServiceInfo("cloudtrace.googleapis.com", "Cloud Trace API", default_enabled=True),
    ServiceInfo("storage.googleapis.com", "Cloud Storage API", default_enabled=True),
    ServiceInfo(
        "storage-api.googleapis.com", "Google Cloud Storage JSON API", default_enabled=True
    ),
    ServiceInfo("storage-component.googleapis.com", "Cloud Storage", default_enabled=True),
    ServiceInfo("bigquery.googleapis.com", "BigQuery API", default_enabled=True),
    ServiceInfo("bigquerystorage.googleapis.com", "BigQuery Storage API", default_enabled=True),
    ServiceInfo("cloudapis.googleapis.com", "Google Cloud APIs", default_enabled=True),
    ServiceInfo("datastore.googleapis.com", "Cloud Datastore API", default_enabled=True),
    ServiceInfo("sql-component.googleapis.com", "Cloud SQL", default_enabled=True),
]

SERVICES: dict[str, ServiceInfo] = {service.name: service for service in _SERVICES}
# Services Google offers that have no discovery document here.
_UNDOCUMENTED = {
    "anthos.googleapis.com": "Anthos API",
    "anthosgke.googleapis.com": "Anthos GKE API",
    "anthosaudit.googleapis.com": "Anthos Audit API",
    "multiclusteringress.googleapis.com": "Multi Cluster Ingress API",
    "multiclusterservicediscovery.googleapis.com": "Multi-Cluster Service Discovery API",
    "containerfilesystem.googleapis.com": "Container File System API",
    "containerscanning.googleapis.com": "Container Scanning API",
    "stackdriver.googleapis.com": "Stackdriver API",
}
_SUFFIX = ".googleapis.com"


@functools.cache
def _documented() -> dict[str, str]:
    """API name → a discovery document of it (file stem), one per API."""
    found: dict[str, str] = {}
    for path in sorted(DOCUMENTS.glob("*.json")):
        found.setdefault(path.name.split(".")[0], path.stem)
    return found


@functools.cache
def lookup(name: str) -> ServiceInfo | None:
    """The service called `name`, or None when Google has no such service."""
    if name in SERVICES:
        return SERVICES[name]
    if name in _UNDOCUMENTED:
        return ServiceInfo(name, _UNDOCUMENTED[name])
    stem = _documented().get(name.removesuffix(_SUFFIX)) if name.endswith(_SUFFIX) else None
    if stem is None:
        return None
    title = json.loads((DOCUMENTS / f"{stem}.json").read_text()).get("title", name)
    return ServiceInfo(name, str(title))


def with_dependencies(names: list[str]) -> list[str]:
    """The services and, transitively, what they depend on (dependencies first)."""
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        info = SERVICES.get(name)
        for dependency in info.depends_on if info else ():
            visit(dependency)
        ordered.append(name)

    for name in names:
        visit(name)
    return ordered


def dependents(name: str) -> list[str]:
    """Services that depend (directly) on `name`."""
    return [service.name for service in _SERVICES if name in service.depends_on]
