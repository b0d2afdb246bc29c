"""A Kubernetes API client for one fleet membership, through the Connect Gateway."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import google.auth
import google.auth.transport.requests
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from mlplat.target import Target

GOOGLE_GATEWAY = "https://connectgateway.googleapis.com"
SANDBOX_TOKEN = "sandbox-admin-mlplat"  # the sandbox maps sandbox-admin* tokens to an admin
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


def gateway_url(target: Target, project_number: str, membership: str) -> str:
    """The membership's Kubernetes API base URL on the Connect Gateway."""
    base = target.endpoint("connectgateway") or GOOGLE_GATEWAY
    return (
        f"{base.rstrip('/')}/v1/projects/{project_number}/locations/global/"
        f"gkeMemberships/{membership}"
    )


def _token(target: Target) -> str:
    if target.is_sandbox:
        return SANDBOX_TOKEN
    credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM])
    credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    return str(credentials.token)


def api_client(target: Target, project_number: str, membership: str) -> client.ApiClient:
    """An ApiClient whose requests carry the caller's credentials to the gateway."""
    configuration = client.Configuration()
    configuration.host = gateway_url(target, project_number, membership)
    configuration.api_key = {"authorization": f"Bearer {_token(target)}"}
    return client.ApiClient(configuration)


_PER_THREAD = threading.local()


def dynamic(target: Target, project_number: str, membership: str) -> DynamicClient:
    """A dynamic client (discovery once per membership and thread: the client's discovery
    cache is not thread-safe, and tasks run in threads)."""
    built: dict[tuple[Target, str, str], DynamicClient] = _PER_THREAD.__dict__.setdefault(
        "dynamic", {}
    )
    key = (target, project_number, membership)
    if key not in built:
        # The client caches discovery in a file named after the host, shared by every client
        # of that URL (threads, processes, an earlier sandbox on the same port) and written
        # without locking; each client gets its own file instead.
        cache = Path(tempfile.mkdtemp(prefix="mlplat-discovery-")) / "discovery.json"
        built[key] = DynamicClient(  # type: ignore[no-untyped-call]
            api_client(target, project_number, membership), cache_file=str(cache)
        )
    return built[key]
