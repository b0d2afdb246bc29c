"""Observe first, act on the difference: a provisioning run's steps either come from its batch
observation (settled: no task run) or run as tasks, as a cold run's all do."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from mlplat.converge.context import EnvContext, Outcome
from mlplat.converge.settled import Settled
from mlplat.converge.teams import AccessResult
from mlplat.kinds.descriptor import leaves
from tasks import observation
from tasks import teams as team_tasks

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
TASK_RUN = "task run"


class Pending(Protocol[T_co]):
    """A step's result to come: a task's future, or `Done`."""

    def result(self) -> T_co: ...


class Done(Generic[T]):
    """The result of a step the observation settled, where a task's future would be."""

    def __init__(self, value: T) -> None:
        self.value = value

    def result(self) -> T:
        return self.value


@dataclass
class Known:
    """What the run's observation settled, and how each outcome taken from it was found."""

    settled: Settled = field(default_factory=Settled)
    compared: dict[int, str] = field(default_factory=dict)  # id(outcome) → what was compared
    access: Pending[dict[str, AccessResult]] | None = None  # checks started with the observation

    def take(self, key: str) -> tuple[Outcome, ...] | None:
        """The settled outcomes of step `key`, or None when it must run."""
        found = self.settled.steps.get(key)
        for outcome in found or ():
            self.compared[id(outcome)] = _compared(outcome)
        return found

    def has(self, key: str) -> bool:
        return key in self.settled.steps

    def one(self, key: str, run: Callable[[], Outcome]) -> Outcome:
        """Step `key`'s outcome: from the observation, else from `run`."""
        found = self.take(key)
        return found[0] if found else run()

    def later(
        self, key: str, submit: Callable[[], Pending[T]], value: Callable[[Any], T]
    ) -> Pending[T]:
        """Step `key` as a result to come: its observed outcomes (shaped by `value`) when
        settled, else the task `submit` starts."""
        found = self.take(key)
        return Done(value(found)) if found is not None else submit()

    def how(self, outcome: Outcome) -> str:
        """How the run knows `outcome`: from the observation (and what it compared), or a
        task run."""
        return self.compared.get(id(outcome), TASK_RUN)


def first(found: tuple[Outcome, ...]) -> Outcome:
    return found[0]


def every(found: tuple[Outcome, ...]) -> list[Outcome]:
    return list(found)


def observe(ctx: EnvContext) -> Known:
    """What the observation settles for a run that changes things (a dry run plans every step
    in its own task, as before). The teams' access checks start beside it: they run every time,
    and for the teams the observation settles they are all that is left to do."""
    if ctx.dry_run:
        return Known()
    members = ctx.spec.teams_in(ctx.env_name)
    access = team_tasks.probe_team_access.submit(ctx, members) if members else None
    return Known(observation.observe_environment(ctx), access=access)


def _compared(outcome: Outcome) -> str:
    kind = outcome.change.kind
    if kind.startswith("gate/"):
        return "observed: ready"
    desired = outcome.change.desired
    fields = len(leaves(desired)) if isinstance(desired, Mapping) else 0
    if fields:
        return f"observed: {fields} field{'s' * (fields != 1)} compared"
    return "observed: as specified"
