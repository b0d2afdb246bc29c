"""How the simulated controllers are timed: the latency model's delays and configurable periods.

Delays (install, first sync, a new commit, operator and RayCluster readiness) come from the
latency model: zero in `instant` mode, sampled and divided by `time_scale` in `realistic` mode.
Periods (resync, audit, retry) are on the sandbox clock, divided by `time_scale` when realistic,
so `rt.advance(seconds)` brings them on without waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox import latency
from sandbox.runtime import Runtime

CONFIG_SYNC_INSTALL = "controllers:configsync.install"
FIRST_SYNC = "controllers:configsync.firstSync"
NEW_COMMIT = "controllers:configsync.commit"
POLICY_INSTALL = "controllers:policycontroller.install"
OPERATOR_READY = "controllers:kuberay.operator"
RAYCLUSTER_READY = "controllers:kuberay.raycluster"

latency.declare(
    {
        CONFIG_SYNC_INSTALL: (120.0, 300.0),
        FIRST_SYNC: (45.0, 120.0),
        NEW_COMMIT: (15.0, 30.0),
        POLICY_INSTALL: (120.0, 300.0),
        OPERATOR_READY: (30.0, 90.0),
        RAYCLUSTER_READY: (60.0, 120.0),
    }
)

DEFAULT_GIT_PERIOD = 15.0


@dataclass(frozen=True)
class Settings:
    """Knobs of the controllers (replace `Controllers.settings` to change them while running)."""

    interval: float = 0.2  # wall seconds between passes; a change in a cluster wakes sooner
    resync_seconds: float = 3600.0  # forced re-apply of every RootSync/RepoSync (drift)
    audit_seconds: float = 60.0  # Policy Controller audit period
    retry_seconds: float = 5.0  # after a failed sync or pod creation
    instant_poll_seconds: float = 0.2  # git polling in instant mode
    # From Running to Ready (readiness probes): None draws it from the latency model (0 when
    # instant); a number forces it, e.g. to hold a window where a pod runs but is not Ready.
    readiness_seconds: float | None = None


def delay(rt: Runtime, key: str) -> float:
    """A modelled delay in sandbox seconds (0 in instant mode)."""
    return rt.latency.sample(key)


def period(rt: Runtime, seconds: float) -> float:
    """A period in sandbox seconds: divided by time_scale in realistic mode."""
    return seconds / rt.latency.time_scale if rt.latency.realistic else seconds


def retry_after(rt: Runtime, settings: Settings) -> float:
    """How long to wait before retrying failed work (a few passes in instant mode)."""
    if rt.latency.realistic:
        return period(rt, settings.retry_seconds)
    return min(settings.retry_seconds, 5 * settings.interval)


def git_poll(rt: Runtime, settings: Settings, spec_period: float) -> float:
    """Seconds between two reads of a sync's branch: spec.git.period (scaled) when realistic."""
    if rt.latency.realistic:
        return period(rt, spec_period)
    return settings.instant_poll_seconds


def commit_delay(rt: Runtime, spec_period: float) -> float:
    """From seeing a new commit at a poll to applying it, so that push → synced follows the
    model (the poll itself already waited half a period on average)."""
    if not rt.latency.realistic:
        return 0.0
    return max(delay(rt, NEW_COMMIT) - period(rt, spec_period) / 2, 0.0)


def parse_duration(text: object, default: float = DEFAULT_GIT_PERIOD) -> float:
    """A Go duration (`15s`, `1m30s`, `500ms`) in seconds; default when absent or unreadable."""
    if isinstance(text, int | float):
        return float(text)
    raw = str(text or "").strip()
    if not raw:
        return default
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    total, number = 0.0, ""
    index = 0
    while index < len(raw):
        char = raw[index]
        if char.isdigit() or char == ".":
            number += char
            index += 1
            continue
        unit = "ms" if raw[index : index + 2] == "ms" else char
        if unit not in units or not number:
            return default
        total += float(number) * units[unit]
        number = ""
        index += len(unit)
    return default if number else total


POD_START = "controllers:pod.start"
POD_READY = "controllers:pod.ready"
POD_RUN = "controllers:pod.run"  # a Job's pod, from Ready to its containers' exit
SCALE_UP = "controllers:autoscaler.scaleUp"  # an unschedulable pod to its new node's Ready
latency.declare(
    {POD_START: (5.0, 20.0), POD_READY: (2.0, 10.0), POD_RUN: (5.0, 30.0), SCALE_UP: (60.0, 120.0)}
)


def readiness(rt: Runtime, settings: Settings, drawn: bool = True) -> float:
    """How long a pod that started runs before it is Ready: forced by the settings, else
    drawn (or 0 when not `drawn`)."""
    if settings.readiness_seconds is not None:
        return settings.readiness_seconds
    return delay(rt, POD_READY) if drawn else 0.0
