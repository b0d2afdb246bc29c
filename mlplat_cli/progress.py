"""Per-environment progress of a command's runs, as a pure model: events in, view state out.

`mlplat_cli.console` turns log records into these events; this module knows nothing of logging,
Prefect or terminals, so it is tested on its own. Times are seconds on any one clock."""

from __future__ import annotations

from dataclasses import dataclass, field

# The stages of an environment's critical path, in order. A resource's stage is the stage of
# the step it is part of; side branches (Git, IAM, fleet features) run beside the network and
# the cluster and take the earliest stage they overlap, so the phase never moves backwards.
PHASES = ("starting", "project", "network", "cluster", "fleet", "in-cluster", "teams")
_STAGE_OF_PREFIX = (
    ("project", "project"),
    ("compute/", "network"),
    ("iam/", "network"),
    ("git/", "network"),
    ("fleet/feature", "network"),
    ("gke/", "cluster"),
    ("fleet/", "fleet"),
    ("k8s/secret config-management-system/", "in-cluster"),
    ("gate/rootsync", "in-cluster"),
    ("gate/crds", "in-cluster"),
    ("k8s/", "teams"),
    ("gate/", "teams"),
    ("access/", "teams"),
)


def stage_of(resource: str) -> int:
    """The index in PHASES of the stage a resource (or a wait on it) belongs to."""
    for prefix, phase in _STAGE_OF_PREFIX:
        if resource.startswith(prefix):
            return PHASES.index(phase)
    return 0


@dataclass(frozen=True)
class _Moment:
    env: str
    at: float


@dataclass(frozen=True)
class RunStarted(_Moment):
    pass


@dataclass(frozen=True)
class RunFinished(_Moment):
    state: str  # Completed, Failed, Crashed…


@dataclass(frozen=True)
class ResourceDone(_Moment):
    """A step reported one resource: `kind name` and its action (create, update, noop…)."""

    resource: str
    action: str


@dataclass(frozen=True)
class _Wait(_Moment):
    what: str


class WaitStarted(_Wait):
    pass


class WaitEnded(_Wait):
    pass


@dataclass(frozen=True)
class PlanAgain(_Moment):
    """The environment plans again from the start (after an approval): its count restarts."""


@dataclass(frozen=True)
class Transient:
    """An expected transient answer (propagation, 429, 503…) that was retried."""

    env: str | None
    at: float


@dataclass(frozen=True)
class TotalKnown:
    """How many resources the environment has (its last summary): the denominator."""

    env: str
    total: int


Event = (
    RunStarted
    | RunFinished
    | ResourceDone
    | WaitStarted
    | WaitEnded
    | Transient
    | PlanAgain
    | TotalKnown
)


@dataclass
class EnvProgress:
    """What one environment has done and what it waits on."""

    name: str
    started: float | None = None
    finished: float | None = None
    state: str = ""
    stage: int = 0
    done: set[str] = field(default_factory=set)
    changed: int = 0
    total: int | None = None
    waits: dict[str, float] = field(default_factory=dict)  # what → since
    transient: int = 0

    @property
    def phase(self) -> str:
        if self.finished is not None:
            return "done" if self.state == "Completed" else self.state.lower() or "done"
        return PHASES[self.stage]

    def counted(self) -> str:
        """`12/35` (of the total last time, never below what is done), or `12` alone."""
        if self.total is None:
            return str(len(self.done))
        return f"{len(self.done)}/{max(self.total, len(self.done))}"

    def longest_wait(self) -> tuple[str, float] | None:
        """The wait that started first: (what, since)."""
        if not self.waits:
            return None
        what = min(self.waits, key=lambda name: (self.waits[name], name))
        return what, self.waits[what]

    def wall(self) -> float | None:
        if self.started is None or self.finished is None:
            return None
        return self.finished - self.started


@dataclass
class Progress:
    """Every environment's progress, in the order they first appeared."""

    envs: dict[str, EnvProgress] = field(default_factory=dict)
    transient: int = 0

    def env(self, name: str) -> EnvProgress:
        return self.envs.setdefault(name, EnvProgress(name))

    def apply(self, event: Event) -> None:
        if isinstance(event, Transient):
            self.transient += 1
            if event.env is not None:
                self.env(event.env).transient += 1
            return
        if isinstance(event, TotalKnown):
            self.env(event.env).total = event.total
            return
        env = self.env(event.env)
        if env.started is None:
            env.started = event.at
        if isinstance(event, RunFinished):
            env.finished, env.state = event.at, event.state
            env.waits.clear()
            if event.state == "Completed":
                env.total = len(env.done)
        elif isinstance(event, ResourceDone):
            _resource_done(env, event)
        elif isinstance(event, WaitStarted):
            env.waits.setdefault(event.what, event.at)
            env.stage = max(env.stage, stage_of(event.what))
        elif isinstance(event, WaitEnded):
            env.waits.pop(event.what, None)
        elif isinstance(event, PlanAgain):
            env.done.clear()
            env.changed = 0


def _resource_done(env: EnvProgress, event: ResourceDone) -> None:
    if event.resource not in env.done:
        env.done.add(event.resource)
        env.changed += event.action != "noop"
    env.stage = max(env.stage, stage_of(event.resource))
    for what in [w for w in env.waits if w.startswith(event.resource + ":")]:
        del env.waits[what]  # a wait that raised never said it ended: its resource did


def seconds(value: float) -> str:
    """`4.2 s`, `1 min 05 s`."""
    if value < 60:
        return f"{value:.1f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"


@dataclass
class PlainLines:
    """Progress as plain lines for a log or a pipe, never the same line twice: one when an
    environment reaches a phase in which it changed something, and one every `every`
    seconds while it waits on the same thing. A converged run prints none."""

    every: float = 15.0
    _phase: dict[str, str] = field(default_factory=dict)
    _changed: dict[str, int] = field(default_factory=dict)
    _wait_lines: dict[tuple[str, str, float], int] = field(default_factory=dict)
    _printed: set[str] = field(default_factory=set)

    def lines(self, progress: Progress, now: float) -> list[str]:
        """The lines due at `now` (each returned once)."""
        due = []
        for env in progress.envs.values():
            if env.finished is not None:
                continue
            if env.phase != self._phase.get(env.name) and env.changed > self._changed.get(
                env.name, 0
            ):
                self._phase[env.name], self._changed[env.name] = env.phase, env.changed
                due.append(
                    f"{env.name}: {env.phase} — {env.counted()} resources, {env.changed} changed"
                )
            wait = env.longest_wait()
            if wait is not None:
                what, since = wait
                key = (env.name, what, since)
                shown = self._wait_lines.get(key, 0)
                if now - since >= self.every * (shown + 1):
                    self._wait_lines[key] = int((now - since) // self.every)
                    more = len(env.waits) - 1
                    due.append(
                        f"{env.name}: waiting on {what} for {seconds(now - since)}"
                        + (f" (and {more} more)" if more else "")
                        + f" — {env.phase}, {env.counted()} resources"
                    )
        fresh = [line for line in due if line not in self._printed]
        self._printed.update(fresh)
        return fresh


def table_rows(progress: Progress, now: float) -> list[tuple[str, str, str, str, str]]:
    """(environment, phase, resources, waiting on, elapsed) for a live table."""
    rows = []
    for env in progress.envs.values():
        wait = env.longest_wait()
        waiting = ""
        if wait is not None:
            waiting = f"{wait[0]} ({seconds(now - wait[1])})"
            if len(env.waits) > 1:
                waiting += f" +{len(env.waits) - 1}"
        end = env.finished if env.finished is not None else now
        elapsed = seconds(end - env.started) if env.started is not None else ""
        rows.append((env.name, env.phase, env.counted(), waiting, elapsed))
    return rows


def summary_lines(progress: Progress) -> list[str]:
    """The end of a command's summary: transient answers retried, wall time per environment."""
    lines = []
    if progress.transient:
        per_env = ", ".join(
            f"{env.name} {env.transient}" for env in progress.envs.values() if env.transient
        )
        plural = "s" if progress.transient != 1 else ""
        lines.append(
            f"{progress.transient} transient answer{plural} retried"
            + (f" ({per_env})" if per_env else "")
            + "; each is in the Prefect run's log (DEBUG), or on the console with --verbose"
        )
    walls = [
        f"{env.name} {seconds(wall)}"
        for env in sorted(progress.envs.values(), key=lambda e: e.name)
        if (wall := env.wall()) is not None
    ]
    if walls:
        lines.append("Wall time: " + ", ".join(walls))
    return lines
