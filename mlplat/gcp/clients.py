"""Official Google API clients for a target: REST transport; anonymous against the sandbox.

Every answer of a google-cloud client is checked against its API's discovery document before the
client reads it (`mlplat.gcp.responses`): the clients read corrupted answers leniently.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Hashable
from functools import cache
from typing import Any, TypeVar, cast

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
from googleapiclient import discovery, discovery_cache

from mlplat.gcp.responses import response_hook
from mlplat.target import Target

C = TypeVar("C")


def _kwargs(target: Target, api: str) -> dict[str, Any]:
    endpoint = target.endpoint(api)
    if endpoint is None:
        return {"transport": "rest"}
    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
        "client_options": ClientOptions(api_endpoint=endpoint),
    }


def _checked(client: C, document: str) -> C:
    """The client, its answers checked against `document` (e.g. `compute.v1`) first.

    The generated REST transports send through a `requests` session (`_session`, declared by
    every generated transport) and offer no public way to see an answer before parsing it."""
    session = client._transport._session  # type: ignore[attr-defined]
    session.hooks["response"].append(response_hook(document))
    return client


@cache
def projects(target: Target) -> resourcemanager_v3.ProjectsClient:
    return _checked(
        resourcemanager_v3.ProjectsClient(**_kwargs(target, "cloudresourcemanager")),
        "cloudresourcemanager.v3",
    )


@cache
def billing(target: Target) -> billing_v1.CloudBillingClient:
    return _checked(
        billing_v1.CloudBillingClient(**_kwargs(target, "cloudbilling")), "cloudbilling.v1"
    )


@cache
def service_usage(target: Target) -> service_usage_v1.ServiceUsageClient:
    return _checked(
        service_usage_v1.ServiceUsageClient(**_kwargs(target, "serviceusage")), "serviceusage.v1"
    )


def compute(target: Target, client_type: type[C]) -> C:
    """A Compute Engine collection's client (`compute_v1.NetworksClient`, …), one per target."""
    client: C = _compute(target, cast(Hashable, client_type))
    return client


@cache
def _compute(target: Target, client_type: Any) -> Any:
    return _checked(client_type(**_kwargs(target, "compute")), "compute.v1")


@cache
def clusters(target: Target) -> container_v1.ClusterManagerClient:
    return _checked(
        container_v1.ClusterManagerClient(**_kwargs(target, "container")), "container.v1"
    )


@cache
def gkehub(target: Target) -> gkehub_v1.GkeHubClient:
    return _checked(gkehub_v1.GkeHubClient(**_kwargs(target, "gkehub")), "gkehub.v1")


@cache
def global_operations(target: Target) -> compute_v1.GlobalOperationsClient:
    return _checked(compute_v1.GlobalOperationsClient(**_kwargs(target, "compute")), "compute.v1")


@cache
def region_operations(target: Target) -> compute_v1.RegionOperationsClient:
    return _checked(compute_v1.RegionOperationsClient(**_kwargs(target, "compute")), "compute.v1")


@cache
def zone_operations(target: Target) -> compute_v1.ZoneOperationsClient:
    return _checked(compute_v1.ZoneOperationsClient(**_kwargs(target, "compute")), "compute.v1")


_PER_THREAD = threading.local()


def iam(target: Target) -> Any:
    """IAM v1 through google-api-python-client (google-cloud-iam has no REST transport)."""
    return discovery_client(target, "iam", "v1")


def cloud_asset(target: Target) -> Any:
    """Cloud Asset Inventory v1 through google-api-python-client (one search lists every
    service account's IAM policy of a project)."""
    return discovery_client(target, "cloudasset", "v1")


def discovery_client(target: Target, api: str, version: str) -> Any:
    """A google-api-python-client for `api` on the target, one per thread: its httplib2
    transport is not thread-safe, and tasks run in threads (shared, two concurrent requests
    get each other's responses)."""
    built: dict[tuple[Target, str], Any] = _PER_THREAD.__dict__.setdefault("clients", {})
    key = (target, api)
    if key not in built:
        built[key] = _build(target, api, version)
    return built[key]


_DOCUMENTS_LOCK = threading.Lock()


@cache
def _document(api: str, version: str) -> dict[str, Any]:
    """The API's discovery document, parsed once per process (a few MB each), shared by every
    thread's client: building a client fills in defaults in it, the same ones every time."""
    text = discovery_cache.get_static_doc(api, version)
    if text is None:
        raise LookupError(f"no discovery document for {api} {version}")
    document: dict[str, Any] = json.loads(text)
    return document


def _build(target: Target, api: str, version: str) -> Any:
    endpoint = target.endpoint(api)
    options: dict[str, Any] = {}
    if endpoint is not None:
        options = {
            "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
            "client_options": ClientOptions(api_endpoint=endpoint),
        }
    with _DOCUMENTS_LOCK:  # one build at a time: each writes those defaults into the document
        return discovery.build_from_document(_document(api, version), **options)
