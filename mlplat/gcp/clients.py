"""Official Google API clients for a target: REST transport; anonymous against the sandbox."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import (
    billing_v1,
    compute_v1,
    container_v1,
    gkehub_v1,
    resourcemanager_v3,
    service_usage_v1,
)
from googleapiclient import discovery

from mlplat.target import Target


def _kwargs(target: Target, api: str) -> dict[str, Any]:
    endpoint = target.endpoint(api)
    if endpoint is None:
        return {"transport": "rest"}
    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
        "client_options": ClientOptions(api_endpoint=endpoint),
    }


@cache
def projects(target: Target) -> resourcemanager_v3.ProjectsClient:
    return resourcemanager_v3.ProjectsClient(**_kwargs(target, "cloudresourcemanager"))


@cache
def billing(target: Target) -> billing_v1.CloudBillingClient:
    return billing_v1.CloudBillingClient(**_kwargs(target, "cloudbilling"))


@cache
def service_usage(target: Target) -> service_usage_v1.ServiceUsageClient:
    return service_usage_v1.ServiceUsageClient(**_kwargs(target, "serviceusage"))


@cache
def networks(target: Target) -> compute_v1.NetworksClient:
    return compute_v1.NetworksClient(**_kwargs(target, "compute"))


@cache
def subnetworks(target: Target) -> compute_v1.SubnetworksClient:
    return compute_v1.SubnetworksClient(**_kwargs(target, "compute"))


@cache
def routers(target: Target) -> compute_v1.RoutersClient:
    return compute_v1.RoutersClient(**_kwargs(target, "compute"))


@cache
def reservations(target: Target) -> compute_v1.ReservationsClient:
    return compute_v1.ReservationsClient(**_kwargs(target, "compute"))


@cache
def clusters(target: Target) -> container_v1.ClusterManagerClient:
    return container_v1.ClusterManagerClient(**_kwargs(target, "container"))


@cache
def gkehub(target: Target) -> gkehub_v1.GkeHubClient:
    return gkehub_v1.GkeHubClient(**_kwargs(target, "gkehub"))


@cache
def global_operations(target: Target) -> compute_v1.GlobalOperationsClient:
    return compute_v1.GlobalOperationsClient(**_kwargs(target, "compute"))


@cache
def region_operations(target: Target) -> compute_v1.RegionOperationsClient:
    return compute_v1.RegionOperationsClient(**_kwargs(target, "compute"))


@cache
def zone_operations(target: Target) -> compute_v1.ZoneOperationsClient:
    return compute_v1.ZoneOperationsClient(**_kwargs(target, "compute"))


_PER_THREAD = threading.local()


def iam(target: Target) -> Any:
    """IAM v1 through google-api-python-client (google-cloud-iam has no REST transport).

    One per thread: its httplib2 transport is not thread-safe, and tasks run in threads
    (shared, two concurrent requests get each other's responses)."""
    built: dict[Target, Any] = _PER_THREAD.__dict__.setdefault("iam", {})
    if target not in built:
        built[target] = _build_iam(target)
    return built[target]


def _build_iam(target: Target) -> Any:
    endpoint = target.endpoint("iam")
    if endpoint is None:
        return discovery.build("iam", "v1", static_discovery=True, cache_discovery=False)
    return discovery.build(
        "iam",
        "v1",
        static_discovery=True,
        cache_discovery=False,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )
