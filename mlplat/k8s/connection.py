"""A Kubernetes API client for one fleet membership, through the Connect Gateway."""

from __future__ import annotations

import contextlib
import json
import shutil
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
_SEEDS: dict[tuple[Target, str, str], Path] = {}  # the first client's discovery file per cluster
_SEEDS_LOCK = threading.Lock()


def _seeded(key: tuple[Target, str, str], cache: Path) -> None:
    """Start `cache` from the first client's discovery of the same cluster, when it reads
    whole (it is written without locking; a torn copy would only cost a fresh discovery)."""
    with _SEEDS_LOCK:
        seed = _SEEDS.setdefault(key, cache)
    if seed == cache:
        return
    with contextlib.suppress(OSError, ValueError):
        text = seed.read_bytes()
        json.loads(text)
        cache.write_bytes(text)


def dynamic(target: Target, project_number: str, membership: str) -> DynamicClient:
    """A dynamic client (one per membership and thread: the client's discovery cache is not
    thread-safe, and tasks run in threads), starting from what the first client of the
    cluster discovered so far. Discovery is lazy: one call per API group, when first used
    (an eager discovery of every group at once rarely survives an error rate)."""
    built: dict[tuple[Target, str, str], DynamicClient] = _PER_THREAD.__dict__.setdefault(
        "dynamic", {}
    )
    key = (target, project_number, membership)
    if key not in built:
        # The client caches discovery in a file named after the host, shared by every client
        # of that URL (threads, processes, an earlier sandbox on the same port) and written
        # without locking; each client gets its own file instead. A kind missing from a copy
        # (a CRD installed since) makes that client discover again when it looks the kind up.
        cache = Path(tempfile.mkdtemp(prefix="mlplat-discovery-")) / "discovery.json"
        _PER_THREAD.__dict__.setdefault("files", {})[key] = cache
        _seeded(key, cache)
        built[key] = DynamicClient(  # type: ignore[no-untyped-call]
            api_client(target, project_number, membership), cache_file=str(cache)
        )
    return built[key]


def release_thread_clients() -> None:
    """Drop this thread's clients, with their discovery files (a cluster's first one stays as
    the seed of later clients): a thread that goes through many clusters, as the drift check's
    do, would otherwise keep a client and its discovery per cluster."""
    built = _PER_THREAD.__dict__.get("dynamic", {})
    files = _PER_THREAD.__dict__.get("files", {})
    with _SEEDS_LOCK:
        seeds = set(_SEEDS.values())
    for key in list(built):
        built.pop(key).client.close()
        cache = files.pop(key, None)
        if cache is not None and cache not in seeds:
            shutil.rmtree(cache.parent, ignore_errors=True)
