"""The holder's record, beside the lock in a Prefect Variable (`<lock>-holder`): the flow run,
its host, PID and process start time, its lease, and a heartbeat (Prefect does not say who
holds a slot)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import runtime
from prefect.client.orchestration import SyncPrefectClient

from flows._locks.slots import call, checked

HOST = socket.gethostname()


def holder_variable(name: str) -> str:
    """The Prefect Variable naming the run that took the slot last (overwritten by the next)."""
    return f"{name}-holder"


def now() -> str:
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


def alive_here(pid: int, started: str) -> bool | None:
    """Whether that process still runs on this host; None when this host cannot tell."""
    if not Path("/proc/self/stat").exists():
        return None
    return _started_at(pid) == started


@dataclass(frozen=True)
class Holder:
    """What a holder recorded about itself."""

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
    response = call(client, "GET", f"/variables/name/{holder_variable(name)}")
    if response.status_code == 404:
        return None
    return Holder.of(checked(response).json().get("value"))


def write_holder(client: SyncPrefectClient, name: str, value: dict[str, Any]) -> None:
    variable = holder_variable(name)
    response = call(client, "PATCH", f"/variables/name/{variable}", {"value": value})
    if response.status_code == 404:
        response = call(client, "POST", "/variables/", {"name": variable, "value": value})
        if response.status_code == 409:  # made meanwhile: update it
            response = call(client, "PATCH", f"/variables/name/{variable}", {"value": value})
    checked(response)


def this_run(lease: UUID) -> dict[str, Any]:
    """The record of the current flow run as the holder of `lease`."""
    deployment = runtime.deployment.name
    flow = runtime.flow_run.flow_name
    pid = os.getpid()
    return {
        "run": str(runtime.flow_run.name),
        "id": str(runtime.flow_run.id),
        "deployment": f"{flow}/{deployment}" if deployment else "",
        "since": now(),
        "host": HOST,
        "pid": pid,
        "started": _started_at(pid) or "",
        "lease": str(lease),
        "seen": now(),
    }
