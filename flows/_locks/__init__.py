"""One mutating run per environment at a time, whoever starts it (CLI, deployment, schedule):
a Prefect global concurrency limit per environment *of one platform on one target*, created on
first use, whose one slot a run holds under a lease it renews.

Who holds it is recorded beside it, in a Prefect Variable (`<lock>-holder`): the flow run, its
host, PID and process start time, its lease, and a heartbeat the holder refreshes every
HEARTBEAT_SECONDS. A waiting run reads that record; it says every minute who holds the lock
and in what state, and it frees the slot of a holder it can prove gone (its flow run finished,
crashed or cancelled, or deleted; its process dead on this host; or its heartbeat silent for
STALE_SECONDS), with a log line naming it. None of this needs the server's leases, which live
in the server's memory and are lost when it restarts.

Slot requests go straight through the Prefect client's HTTP connection rather than through
`prefect.concurrency`: under load, Prefect's server on SQLite answers 503 ("database is
locked") now and then, and Prefect's client then sleeps (2 s even with retries off; with
them on, 2, 4, 8, 16, 32 s before failing the run). Measured in a 10 environments × 20 teams
re-run: free locks acquired after 2–79 s, and one run failed. A waiting run here asks again
every second or so until its timeout, whatever the answer."""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from prefect import get_run_logger, runtime
from prefect.client.orchestration import SyncPrefectClient, get_client

from mlplat.converge.context import EnvContext

LOCK_WAIT_SECONDS = 3600.0
LEASE_SECONDS = 60.0  # the minimum Prefect accepts; a holder renews it every 15 s
ASK_EVERY_SECONDS = 1.0  # a waiting run asks this often (±50 %) whether the slot is free
RENEW_EVERY_SECONDS = LEASE_SECONDS / 4  # three more tries before the lease could lapse
HEARTBEAT_SECONDS = 15.0  # the holder refreshes its record this often
STALE_SECONDS = 75.0  # a record unchanged this long, seen by a waiter: its holder is gone
CHECK_EVERY_SECONDS = 5.0  # a waiting run looks at the holder this often
# ... and frees a slot only when it found the same holder gone twice, this far apart: a new
# holder records itself right after taking the slot (trying for 10 s), so a record that names
# a finished run this long means the slot was never given back.
CONFIRM_SECONDS = 20.0
REPORT_EVERY_SECONDS = 60.0  # a waiting run says who holds the lock this often
LOG = logging.getLogger("mlplat.lock")
Log = logging.Logger | logging.LoggerAdapter[Any]
BUSY = {408, 429, 500, 502, 503, 504}  # the server too busy to say: ask again
TAKEN = 423
GONE = 410  # a lease the server does not know (expired, released, or lost in a restart)
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
# Its own generator: the global one is shared with whatever else runs in the process.
_JITTER = random.Random()
# One slot request (take or give back) at a time from this process: the environments of one
# platform run take and give back their slots together, and on SQLite two writes at once
# make the server answer one of them 503 ("database is locked"). Each write takes a few tens
# of milliseconds.
_WRITING = threading.Lock()
HOST = socket.gethostname()


def lock_name(ctx: EnvContext) -> str:
    """The lock of this environment of this platform on this target: the environment's name
    to read, and a digest of the platform, its project and the target (a sandbox by its admin
    URL), so that two platforms, or two sandboxes, never share one."""
    target = f"{ctx.target.name}|{ctx.target.admin_url or ''}"
    identity = f"{ctx.platform.name}|{ctx.project}|{target}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:10]
    return f"mlplat-{ctx.platform.name}-{ctx.env_name}-{digest}"


def holder_variable(name: str) -> str:
    """The Prefect Variable naming the run that took the slot last (overwritten by the next)."""
    return f"{name}-holder"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _started_at(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, /proc/PID/stat field 22): with the
    PID it names one process, never a later one reusing the PID. None when it is gone (or
    when /proc cannot tell, e.g. not Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive_here(pid: int, started: str) -> bool | None:
    """Whether that process still runs on this host; None when this host cannot tell."""
    if not Path("/proc/self/stat").exists():
        return None
    return _started_at(pid) == started


# -- the Prefect API, asked without Prefect's retry sleeps -------------------------------------


class UnansweredError(Exception):
    """The server could not answer now (busy, restarting, unreachable)."""


def _call(client: SyncPrefectClient, method: str, path: str, body: Any = None) -> httpx.Response:
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


def _checked(response: httpx.Response, *ok: int) -> httpx.Response:
    if response.status_code not in ok and not response.is_success:
        response.raise_for_status()
    return response


@contextmanager
def _connection() -> Iterator[SyncPrefectClient]:
    with get_client(sync_client=True) as client:
        yield client


# -- the holder's record -----------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """What a holder recorded about itself (Prefect does not say who holds a slot)."""

    run: str
    id: str
    deployment: str
    since: str
    host: str
    pid: int
    started: str
    lease: str
    seen: str  # the heartbeat: refreshed every HEARTBEAT_SECONDS while the run holds the slot

    @classmethod
    def of(cls, found: Any) -> Holder | None:
        if not isinstance(found, dict):
            return None
        try:
            return cls(
                run=str(found["run"]),
                id=str(found["id"]),
                deployment=str(found.get("deployment") or ""),
                since=str(found["since"]),
                host=str(found.get("host") or ""),
                pid=int(found.get("pid") or 0),
                started=str(found.get("started") or ""),
                lease=str(found.get("lease") or ""),
                seen=str(found.get("seen") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        how = (
            f"by deployment {self.deployment!r}"
            if self.deployment
            else "outside any deployment, e.g. by the mlplat CLI"
        )
        where = f", process {self.pid} on {self.host}" if self.pid else ""
        return f"flow run {self.run!r} ({self.id}, {how}{where}), holding it since {self.since}"


def read_holder(client: SyncPrefectClient, name: str) -> Holder | None:
    """The lock's last recorded holder (raises UnansweredError when the server cannot say)."""
    response = _call(client, "GET", f"/variables/name/{holder_variable(name)}")
    if response.status_code == 404:
        return None
    return Holder.of(_checked(response).json().get("value"))


def _write_holder(client: SyncPrefectClient, name: str, value: dict[str, Any]) -> None:
    variable = holder_variable(name)
    response = _call(client, "PATCH", f"/variables/name/{variable}", {"value": value})
    if response.status_code == 404:
        response = _call(client, "POST", "/variables/", {"name": variable, "value": value})
        if response.status_code == 409:  # made meanwhile: update it
            response = _call(client, "PATCH", f"/variables/name/{variable}", {"value": value})
    _checked(response)


def _record(lease: UUID) -> dict[str, Any]:
    deployment = runtime.deployment.name
    flow = runtime.flow_run.flow_name
    pid = os.getpid()
    return {
        "run": str(runtime.flow_run.name),
        "id": str(runtime.flow_run.id),
        "deployment": f"{flow}/{deployment}" if deployment else "",
        "since": _now(),
        "host": HOST,
        "pid": pid,
        "started": _started_at(pid) or "",
        "lease": str(lease),
        "seen": _now(),
    }


def _keep_trying(what: str, call: Any, seconds: float) -> bool:
    """Call until it is answered (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            call()
            return True
        except UnansweredError as exc:
            LOG.debug("%s: %s", what, exc)
            if time.monotonic() >= deadline:
                return False
        time.sleep(ASK_EVERY_SECONDS * _JITTER.uniform(0.5, 1.5))


# -- taking the slot ---------------------------------------------------------------------------


def _ask(client: SyncPrefectClient, name: str) -> UUID | None:
    """The lease on the slot; None while another run holds it (UnansweredError while the server
    cannot say). Creates the limit on first use."""
    body = {"names": [name], "slots": 1, "mode": "concurrency", "lease_duration": LEASE_SECONDS}
    with _WRITING:
        response = _call(client, "POST", "/v2/concurrency_limits/increment-with-lease", body)
    if response.status_code == TAKEN:
        return None
    granted = _checked(response).json()
    if granted.get("limits"):
        return UUID(granted["lease_id"])
    # No such limit yet (its empty lease lapses by itself): create it, then ask again.
    with _WRITING:
        created = _call(client, "POST", "/v2/concurrency_limits/", {"name": name, "limit": 1})
    if created.status_code != 409:  # 409: created meanwhile by another run
        _checked(created)
    return _ask(client, name)


@dataclass
class _Watch:
    """What a waiting run knows of the holder: when it last looked and reported, and since
    when it has seen the same record unchanged (its heartbeat silent)."""

    name: str
    env: str
    log: Log
    started: float = field(default_factory=time.monotonic)
    looked: float = 0.0
    reported: float = 0.0
    unchanged: tuple[Holder | None, float] | None = None
    suspect: tuple[Holder | None, float] | None = None  # found gone once, at this time

    def look(self, client: SyncPrefectClient, timeout: float) -> None:
        """Every CHECK_EVERY_SECONDS: who holds the lock, report it every minute, and free
        the slot of a holder found gone twice CONFIRM_SECONDS apart."""
        now = time.monotonic()
        if now - self.looked < CHECK_EVERY_SECONDS:
            return
        self.looked = now
        try:
            holder = read_holder(client, self.name)
            run = _flow_run(client, holder) if holder else None
            gone = self._gone(holder, run, now)
            if now - self.reported >= REPORT_EVERY_SECONDS:
                self.reported = now
                self._report(holder, run, gone, now, timeout)
            if gone is None:
                self.suspect = None
            elif self.suspect is None or self.suspect[0] != holder:
                self.suspect = (holder, now)
            elif now - self.suspect[1] >= CONFIRM_SECONDS:
                self._free(client, holder, gone)
                if holder is not None and run is not None and "is dead" in gone:
                    _crashed(client, holder, run, gone)
                self.suspect = self.unchanged = None
        except (UnansweredError, httpx.HTTPError) as exc:  # nothing proven without an answer
            LOG.debug("%s: %r", self.name, exc)
            self.unchanged = self.suspect = None

    def _gone(self, holder: Holder | None, run: dict[str, Any] | None, now: float) -> str | None:
        """Why the holder is gone, or None while it may be alive."""
        if self.unchanged is None or self.unchanged[0] != holder:
            self.unchanged = (holder, now)
        silent = now - self.unchanged[1]
        if holder is None:
            return (
                f"no run recorded itself as its holder for {silent:.0f}s"
                if silent >= STALE_SECONDS
                else None
            )
        if run is None:
            return "its flow run no longer exists"
        state = run.get("state") or {}
        if str(state.get("type")) in FINAL:  # a run gives its slot back before it ends
            return f"its flow run is {state.get('name') or state.get('type')}"
        if holder.host == HOST and holder.started:
            alive = _alive_here(holder.pid, holder.started)
            if alive is False:
                return f"its process {holder.pid} on {holder.host} is dead"
            if alive:
                return None  # a live process here holds it, whatever its heartbeat says
        if silent >= STALE_SECONDS:
            return f"its heartbeat has been silent for {silent:.0f}s (last: {holder.seen})"
        return None

    def _report(
        self,
        holder: Holder | None,
        run: dict[str, Any] | None,
        gone: str | None,
        now: float,
        timeout: float,
    ) -> None:
        waited = f"waited {now - self.started:.0f}s of up to {timeout:.0f}s"
        if holder is None:
            self.log.warning(
                "waiting for lock %s: environment %r is being changed by a run that did not "
                "record itself; %s",
                self.name,
                self.env,
                waited,
            )
            return
        state = (run or {}).get("state") or {}
        if run is None:
            status = "a flow run that no longer exists"
        else:
            name = state.get("name") or state.get("type")
            status = f"state {name} since {state.get('timestamp')}"
        approval = ""
        key = str((state.get("state_details") or {}).get("pause_key") or "")
        if state.get("type") == "PAUSED" and key.startswith("approval-"):
            approval = (
                f"; it is paused for approval {key!r} of its plan (artifact plan-{self.env}): "
                f"approve it with `mlplat approve {self.env}` or reject it with "
                f"`mlplat reject {self.env} --reason ...` (or Resume it in the Prefect UI)"
            )
        self.log.warning(
            "waiting for lock %s: environment %r is being changed by %s, %s%s%s; %s",
            self.name,
            self.env,
            holder.describe(),
            status,
            approval,
            f"; it looks gone ({gone}): freeing it if that holds" if gone else "",
            waited,
        )

    def _free(self, client: SyncPrefectClient, holder: Holder | None, why: str) -> None:
        """Give back the slot of a holder found gone: through its lease when the server still
        knows it (at most once, whoever else tries), else by decrementing the limit."""
        if holder != read_holder(client, self.name):
            return  # a new holder recorded itself meanwhile
        lease_known = False
        if holder is not None and holder.lease:
            renewed = _call(
                client,
                "POST",
                f"/v2/concurrency_limits/leases/{holder.lease}/renew",
                {"lease_duration": LEASE_SECONDS},
            )
            lease_known = renewed.status_code != GONE and renewed.is_success
        with _WRITING:
            if lease_known and holder is not None:
                _checked(
                    _call(
                        client,
                        "POST",
                        "/v2/concurrency_limits/decrement-with-lease",
                        {"lease_id": holder.lease},
                    )
                )
            else:
                _checked(
                    _call(
                        client,
                        "POST",
                        "/v2/concurrency_limits/decrement",
                        {"names": [self.name], "slots": 1},
                    )
                )
        self.log.warning(
            "freed lock %s of environment %r: its holder, %s, is gone (%s)",
            self.name,
            self.env,
            holder.describe() if holder else "a run that never recorded itself",
            why,
        )


def _crashed(client: SyncPrefectClient, holder: Holder, run: dict[str, Any], why: str) -> None:
    """Mark the run of a holder whose process is dead Crashed (no process will ever report
    its end), so that it is not shown Running or Paused for good, nor answered for approval."""
    if str((run.get("state") or {}).get("type")) in FINAL:
        return
    state = {"type": "CRASHED", "name": "Crashed", "message": f"mlplat lock: {why}"}
    _call(client, "POST", f"/flow_runs/{holder.id}/set_state", {"state": state, "force": True})


def _flow_run(client: SyncPrefectClient, holder: Holder) -> dict[str, Any] | None:
    response = _call(client, "GET", f"/flow_runs/{holder.id}")
    if response.status_code in (404, 422):
        return None
    found: dict[str, Any] = _checked(response).json()
    return found


@dataclass
class _Acquired:
    lease: UUID
    waited: float
    watch: _Watch | None  # set when another run held the lock while this one asked


def _acquire(name: str, env: str, timeout: float, log: Log) -> _Acquired:
    started = time.monotonic()
    deadline = started + timeout
    watch: _Watch | None = None
    with _connection() as client:
        while True:
            try:
                lease = _ask(client, name)
                if lease is not None:
                    return _Acquired(lease, time.monotonic() - started, watch)
                if watch is None:
                    watch = _Watch(name, env, log, started=started)
                watch.look(client, timeout)
            except UnansweredError as exc:
                LOG.debug("%s: %s, asking again", name, exc)
            if time.monotonic() >= deadline:
                raise TimeoutError(name)
            time.sleep(ASK_EVERY_SECONDS * _JITTER.uniform(0.5, 1.5))


# -- holding it --------------------------------------------------------------------------------


@dataclass
class _Held:
    name: str
    lease: UUID
    record: dict[str, Any]
    log: Log
    stop: threading.Event = field(default_factory=threading.Event)
    lost: bool = False  # the server no longer knows the lease (it restarted)

    def keep(self) -> None:
        """Renew the lease and refresh the record's heartbeat until `stop`; each retried every
        second or two while the server is busy or away."""
        renewed = beat = time.monotonic()
        with _connection() as client:
            wait = min(RENEW_EVERY_SECONDS, HEARTBEAT_SECONDS)
            while not self.stop.wait(wait):
                wait = min(RENEW_EVERY_SECONDS, HEARTBEAT_SECONDS)
                now = time.monotonic()
                try:
                    if not self.lost and now - renewed >= RENEW_EVERY_SECONDS * 0.9:
                        self._renew(client)
                        renewed = time.monotonic()
                    if now - beat >= HEARTBEAT_SECONDS * 0.9:
                        self.record["seen"] = _now()
                        _write_holder(client, self.name, self.record)
                        beat = time.monotonic()
                except (UnansweredError, httpx.HTTPError) as exc:
                    LOG.debug("%s: %r", self.name, exc)
                    wait = ASK_EVERY_SECONDS * _JITTER.uniform(1, 2)

    def _renew(self, client: SyncPrefectClient) -> None:
        response = _call(
            client,
            "POST",
            f"/v2/concurrency_limits/leases/{self.lease}/renew",
            {"lease_duration": LEASE_SECONDS},
        )
        if response.status_code == GONE:
            self.lost = True
            self.log.warning(
                "the Prefect server no longer knows this run's lease on %s (it restarted?): "
                "this run keeps the lock, its record shows it alive, and it frees the slot "
                "when it ends",
                self.name,
            )
            return
        _checked(response)

    def release(self) -> None:
        """Give the slot back: through the lease, or (lease lost) by decrementing the limit
        if the record still names this run."""
        with _connection() as client:

            def give_back() -> None:
                if not self.lost:
                    self._renew(client)  # learns whether the server still knows the lease
                with _WRITING:
                    if not self.lost:
                        _checked(
                            _call(
                                client,
                                "POST",
                                "/v2/concurrency_limits/decrement-with-lease",
                                {"lease_id": str(self.lease)},
                            )
                        )
                        return
                holder = read_holder(client, self.name)
                if holder is None or holder.lease == str(self.lease):
                    with _WRITING:
                        _checked(
                            _call(
                                client,
                                "POST",
                                "/v2/concurrency_limits/decrement",
                                {"names": [self.name], "slots": 1},
                            )
                        )

            try:
                if _keep_trying(f"release {self.name}", give_back, LEASE_SECONDS / 2):
                    return
                problem = "the Prefect server did not answer"
            except httpx.HTTPError as exc:
                problem = str(exc)
            self.log.warning(
                "could not release %s (%s): a waiting run frees it once it finds this run gone",
                self.name,
                problem,
            )


@contextmanager
def _slot(name: str, env: str, timeout: float, log: Log) -> Iterator[_Acquired]:
    acquired = _acquire(name, env, timeout, log)
    held = _Held(name, acquired.lease, _record(acquired.lease), log)
    with _connection() as client:  # before anything else: waiters read it
        written = _keep_trying(
            f"record {name}", lambda: _write_holder(client, name, held.record), 10
        )
    if not written:
        log.warning("could not record this run as the holder of %s; retrying meanwhile", name)
    keeper = threading.Thread(  # in this run's context: its settings name the Prefect API
        target=contextvars.copy_context().run,
        args=(held.keep,),
        name=f"lease-{name}",
        daemon=True,
    )
    keeper.start()
    try:
        yield acquired
    finally:
        held.stop.set()
        keeper.join()
        held.release()


@contextmanager
def environment_lock(ctx: EnvContext, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """Hold the environment's slot; another mutating run waits (and says who holds it, every
    minute) up to `timeout`."""
    name = lock_name(ctx)
    logger = get_run_logger()
    with ExitStack() as held:
        try:
            acquired = held.enter_context(_slot(name, ctx.env_name, timeout, logger))
        except TimeoutError as exc:  # only waiting for the slot: the run's own errors pass
            raise TimeoutError(
                f"another mutating run of environment {ctx.env_name!r} held {name} for over "
                f"{timeout:.0f}s; try again when it has finished"
            ) from exc
        if acquired.watch is not None:
            logger.info(
                "acquired %s after %.1fs: waited for another run of %r to finish",
                name,
                acquired.waited,
                ctx.env_name,
            )
        else:
            logger.info("acquired %s in %.0f ms (it was free)", name, acquired.waited * 1000)
        yield


@contextmanager
def mutating(ctx: EnvContext) -> Iterator[None]:
    """The environment's lock for a run that changes things; a plan (dry run) takes none."""
    if ctx.dry_run:
        yield
        return
    with environment_lock(ctx):
        yield
