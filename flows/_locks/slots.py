"""Slot requests: take the environment's one slot under a lease, renew the lease, give the slot
back; each one request through the Prefect client's connection, without its retry sleeps."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client

LEASE_SECONDS = 60.0  # the minimum Prefect accepts; a holder renews it every 15 s
ASK_EVERY_SECONDS = 1.0  # a waiting run asks this often (±50 %) whether the slot is free
BUSY = {408, 429, 500, 502, 503, 504}  # the server too busy to say: ask again
TAKEN = 423
GONE = 410  # a lease the server does not know (expired, released, or lost in a restart)
LOG = logging.getLogger("mlplat.lock")
# Its own generator: the global one is shared with whatever else runs in the process.
_JITTER = random.Random()
# One slot request (take or give back) at a time from this process: the environments of one
# platform run take and give back their slots together, and on SQLite two writes at once
# make the server answer one of them 503 ("database is locked"). Each write takes a few tens
# of milliseconds.
_WRITING = threading.Lock()


class UnansweredError(Exception):
    """The server could not answer now (busy, restarting, unreachable)."""


def call(client: SyncPrefectClient, method: str, path: str, body: Any = None) -> httpx.Response:
    """One request through the client's connection (its base URL, headers and auth), without
    its retry loop; busy answers and transport errors raise UnansweredError."""
    http = client._client  # Prefect's httpx client
    request = http.build_request(method, path, json=body)
    try:
        response = httpx.Client.send(http, request)
    except httpx.TransportError as exc:
        raise UnansweredError(repr(exc)) from exc
    if response.status_code in BUSY:
        raise UnansweredError(f"{method} {path}: {response.status_code}")
    return response


def checked(response: httpx.Response, *ok: int) -> httpx.Response:
    if response.status_code not in ok and not response.is_success:
        response.raise_for_status()
    return response


@contextmanager
def connection() -> Iterator[SyncPrefectClient]:
    with get_client(sync_client=True) as client:
        yield client


def pause() -> None:
    """Wait about ASK_EVERY_SECONDS (±50 %) before asking again."""
    time.sleep(ASK_EVERY_SECONDS * _JITTER.uniform(0.5, 1.5))


def pause_seconds() -> float:
    """How long a busy holder waits before trying again: one to two ASK_EVERY_SECONDS."""
    return ASK_EVERY_SECONDS * _JITTER.uniform(1, 2)


def keep_trying(what: str, attempt: Callable[[], object], seconds: float) -> bool:
    """Call until it is answered (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            attempt()
            return True
        except UnansweredError as exc:
            LOG.debug("%s: %s", what, exc)
            if time.monotonic() >= deadline:
                return False
        pause()


def take(client: SyncPrefectClient, name: str) -> UUID | None:
    """The lease on the slot; None while another run holds it (UnansweredError while the server
    cannot say). Creates the limit on first use."""
    body = {"names": [name], "slots": 1, "mode": "concurrency", "lease_duration": LEASE_SECONDS}
    with _WRITING:
        response = call(client, "POST", "/v2/concurrency_limits/increment-with-lease", body)
    if response.status_code == TAKEN:
        return None
    granted = checked(response).json()
    if granted.get("limits"):
        return UUID(granted["lease_id"])
    # No such limit yet (its empty lease lapses by itself): create it, then ask again.
    with _WRITING:
        created = call(client, "POST", "/v2/concurrency_limits/", {"name": name, "limit": 1})
    if created.status_code != 409:  # 409: created meanwhile by another run
        checked(created)
    return take(client, name)


def renew(client: SyncPrefectClient, lease: str) -> httpx.Response:
    """Renew a lease for LEASE_SECONDS more; GONE when the server does not know it."""
    path = f"/v2/concurrency_limits/leases/{lease}/renew"
    return call(client, "POST", path, {"lease_duration": LEASE_SECONDS})


def give_back(client: SyncPrefectClient, name: str, lease: str | None) -> None:
    """Give the slot back: through `lease` when the server knows it (at most once, whoever
    else tries), else (None) by decrementing the limit `name`."""
    with _WRITING:
        if lease is not None:
            response = call(
                client, "POST", "/v2/concurrency_limits/decrement-with-lease", {"lease_id": lease}
            )
        else:
            body = {"names": [name], "slots": 1}
            response = call(client, "POST", "/v2/concurrency_limits/decrement", body)
    checked(response)
