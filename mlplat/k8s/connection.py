"""A Kubernetes API client for one fleet membership, through the Connect Gateway."""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

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


def dns_endpoint_url(target: Target, host: str) -> str:
    """The URL of a cluster's DNS endpoint: `https://<host>` on Google; on the sandbox, where
    such names do not resolve, the name under its `gkedns` base URL."""
    base = target.endpoint("gkedns")
    return f"{base.rstrip('/')}/{host}" if base else f"https://{host}"


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
# Per cluster, the discovery shared by its clients: the fullest file a client has written.
_SEEDS: dict[tuple[Target, str, str], Path] = {}
_SEEDS_LOCK = threading.Lock()
_SCRATCH: list[Path] = []  # this process's discovery files live under one directory


def _scratch_dir() -> Path:
    """A fresh directory for discovery files, under one per-process directory that is removed
    when the process exits (a long-lived worker's threads would otherwise leave one behind
    per client)."""
    with _SEEDS_LOCK:
        if not _SCRATCH:
            root = Path(tempfile.mkdtemp(prefix="mlplat-discovery-"))
            atexit.register(shutil.rmtree, root, ignore_errors=True)
            _SCRATCH.append(root)
        return Path(tempfile.mkdtemp(dir=_SCRATCH[0]))


def _seed(key: tuple[Target, str, str]) -> Path:
    if key not in _SEEDS:
        made = _scratch_dir() / "shared.json"
        with _SEEDS_LOCK:
            _SEEDS.setdefault(key, made)
    return _SEEDS[key]


def _seeded(key: tuple[Target, str, str], cache: Path) -> None:
    """Start `cache` from the cluster's shared discovery, when there is one and it reads whole."""
    with contextlib.suppress(OSError, ValueError):
        text = _seed(key).read_bytes()
        json.loads(text)
        cache.write_bytes(text)


def share_discovery(api: DynamicClient) -> None:
    """After a lookup by this thread's client `api`: when its discovery file changed since it
    last shared (it discovered an API group, or a CRD installed since), what it loaded joins
    the cluster's shared discovery, so clients of later threads start from it instead of
    discovering again."""
    built = _PER_THREAD.__dict__.get("dynamic", {})
    key = next((k for k, c in built.items() if c is api), None)
    if key is None:
        return
    cache = _PER_THREAD.__dict__["files"][key]
    stamps = _PER_THREAD.__dict__.setdefault("shared_stamps", {})
    with contextlib.suppress(OSError, ValueError):
        status = cache.stat()
        stamp = (status.st_mtime_ns, status.st_size)
        if stamps.get(key) == stamp:
            return
        stamps[key] = stamp
        mine = json.loads(cache.read_bytes())
        seed = _seed(key)
        with _SEEDS_LOCK:
            try:
                shared = json.loads(seed.read_bytes())
            except (OSError, ValueError):
                shared = {}
            partial = seed.with_name(f"shared.{threading.get_ident()}.tmp")
            partial.write_text(json.dumps(_merged(mine, shared)))
            partial.replace(seed)  # atomic: a reader sees the old file or the new one


def _merged(mine: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """The client library's discovery cache: every group version either file knows, with the
    resources of whichever loaded them (`mine` when both did). A client that rediscovered
    lists every group but loads only those it looks up."""
    merged = {**shared, **{k: v for k, v in mine.items() if k != "resources"}}
    resources: dict[str, Any] = {}
    for source in (shared, mine):
        for prefix, groups in (source.get("resources") or {}).items():
            for group, versions in (groups or {}).items():
                known = resources.setdefault(prefix, {}).setdefault(group, {})
                for version, entry in (versions or {}).items():
                    loaded = isinstance(entry, dict) and entry.get("resources")
                    if loaded or version not in known:
                        known[version] = entry
    merged["resources"] = resources
    return merged


def dynamic(target: Target, project_number: str, membership: str) -> DynamicClient:
    """A dynamic client (one per membership and thread: the client's discovery cache is not
    thread-safe, and tasks run in threads), starting from the cluster's shared discovery
    (`share_discovery`). Discovery is lazy: one call per API group, when first used
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
        cache = _scratch_dir() / "discovery.json"
        _PER_THREAD.__dict__.setdefault("files", {})[key] = cache
        _seeded(key, cache)
        built[key] = DynamicClient(  # type: ignore[no-untyped-call]
            api_client(target, project_number, membership), cache_file=str(cache)
        )
    return built[key]


def release_thread_clients() -> None:
    """Drop this thread's clients, with their discovery files (the clusters' shared ones
    stay): a thread that goes through many clusters, as the drift check's do, would otherwise
    keep a client and its discovery per cluster."""
    built = _PER_THREAD.__dict__.get("dynamic", {})
    files = _PER_THREAD.__dict__.get("files", {})
    for key in list(built):
        built.pop(key).client.close()
        _PER_THREAD.__dict__.get("shared_stamps", {}).pop(key, None)
        cache = files.pop(key, None)
        if cache is not None:
            shutil.rmtree(cache.parent, ignore_errors=True)
