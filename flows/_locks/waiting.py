"""Waiting for the slot, and recovering it: a waiting run asks every second or so; every
CHECK_EVERY_SECONDS it reads the holder's record, says every minute who holds the lock and in
what state, and frees the slot of a holder it can prove gone (its flow run finished, crashed
or cancelled, or deleted; its process dead on this host; or its heartbeat silent for
STALE_SECONDS), with a log line naming it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient

from flows._locks.holder import HOST, Holder, alive_here, read_holder
from flows._locks.slots import (
    GONE,
    LOG,
    UnansweredError,
    call,
    checked,
    connection,
    give_back,
    pause,
    renew,
    take,
)

STALE_SECONDS = 75.0  # a record unchanged this long, seen by a waiter: its holder is gone
CHECK_EVERY_SECONDS = 5.0  # a waiting run looks at the holder this often
# ... and frees a slot only when it found the same holder gone twice, this far apart: a new
# holder records itself right after taking the slot (trying for 10 s), so a record that names
# a finished run this long means the slot was never given back.
CONFIRM_SECONDS = 20.0
REPORT_EVERY_SECONDS = 60.0  # a waiting run says who holds the lock this often
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
Log = logging.Logger | logging.LoggerAdapter[Any]


@dataclass
class Watch:
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
            alive = alive_here(holder.pid, holder.started)
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
            renewed = renew(client, holder.lease)
            lease_known = renewed.status_code != GONE and renewed.is_success
        give_back(client, self.name, holder.lease if lease_known and holder else None)
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
    call(client, "POST", f"/flow_runs/{holder.id}/set_state", {"state": state, "force": True})


def _flow_run(client: SyncPrefectClient, holder: Holder) -> dict[str, Any] | None:
    response = call(client, "GET", f"/flow_runs/{holder.id}")
    if response.status_code in (404, 422):
        return None
    found: dict[str, Any] = checked(response).json()
    return found


@dataclass
class Acquired:
    """The lease taken, after how long, and the watch on the holder if there was one."""

    lease: UUID
    waited: float
    watch: Watch | None  # set when another run held the lock while this one asked


def acquire(name: str, env: str, timeout: float, log: Log) -> Acquired:
    """The slot's lease, asked for until `timeout` (TimeoutError), watching the holder."""
    started = time.monotonic()
    deadline = started + timeout
    watch: Watch | None = None
    with connection() as client:
        while True:
            try:
                lease = take(client, name)
                if lease is not None:
                    return Acquired(lease, time.monotonic() - started, watch)
                if watch is None:
                    watch = Watch(name, env, log, started=started)
                watch.look(client, timeout)
            except UnansweredError as exc:
                LOG.debug("%s: %s, asking again", name, exc)
            if time.monotonic() >= deadline:
                raise TimeoutError(name)
            pause()
