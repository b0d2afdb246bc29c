"""Counting what runs write: per sandbox method, served vs refused, and what one clean run
writes (the yardstick of "nothing created twice, nothing left out")."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.cloud import Sandbox
from sandbox.counters import Counters
from sandbox.github.component import ADMIN_TOKEN, GitHub
from tests.flows.conftest import REFERENCE
from tests.reliability.inventory import inventory

LOG_SIZE = 200_000  # requests kept: every request of several runs


@dataclass(frozen=True)
class Writes:
    """Mutating calls per sandbox method: those served, and those refused (4xx/5xx)."""

    served: Counter[str]
    refused: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.served.values()) + sum(self.refused.values())

    def __add__(self, other: Writes) -> Writes:
        return Writes(self.served + other.served, self.refused + other.refused)


def writes_of(requests: list[dict[str, Any]]) -> Writes:
    """The mutating calls in a request log (`Counters.requests()` or the admin `/requests`)."""
    served: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for request in requests:
        if request["read"] or not request["method"]:
            continue
        (refused if request["status"] >= 400 else served)[request["method"]] += 1
    return Writes(served, refused)


def provision(endpoints: Path, env: str = "dev") -> Any:
    """provision_environment of the reference spec, in this process; its final state."""
    from flows.provision_environment import provision_environment  # noqa: PLC0415

    return provision_environment(
        env, spec_dir=str(REFERENCE), endpoints=str(endpoints), return_state=True
    )


@contextlib.contextmanager
def fresh_sandbox(directory: Path) -> Iterator[Sandbox]:
    """A sandbox like the flow suite's (the spec's GitHub organization, GITHUB_TOKEN set)."""
    with pytest.MonkeyPatch.context() as patch, Sandbox(directory, latency="instant") as running:
        github = running.component("github")
        assert isinstance(github, GitHub)
        github.create_org("ml-platform-org")
        patch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
        yield running


@dataclass(frozen=True)
class CleanRun:
    """What one uninterrupted run from nothing writes, and (when asked) the platform it leaves,
    listed through every API (tests/reliability/inventory.py)."""

    writes: Writes
    inventory: dict[str, Any] | None


def clean_run(state_dir: Path, *, listed: bool = False) -> CleanRun:
    """One uninterrupted run of dev from nothing, on a fresh instant sandbox."""
    with fresh_sandbox(state_dir) as sandbox:
        counters = sandbox.rt.counters = Counters(log_size=LOG_SIZE)
        state = provision(sandbox.endpoints_path)
        assert state.is_completed(), state.message
        written = writes_of(counters.requests())
        return CleanRun(written, inventory(sandbox) if listed else None)
