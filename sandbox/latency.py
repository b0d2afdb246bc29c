"""How long things take: `instant` for tests, `realistic` (lognormal, scaled) for demos.

Durations come from the latency model reference (docs): each key (a discovery method id for an
operation, `call:<method id>` for a synchronous call, or a named window such as `window:billing`)
has a p50 and a p90; realistic mode samples a lognormal
with sigma = ln(p90/p50)/1.2816, clips it, and divides it by `time_scale`.
API modules declare their own keys with `declare` at import time.

Every realistic sample is journalled with its *subject* (the request line, or the cluster a
controller pass works on, set with `subject()`), so a benchmark can tell which durations the
sandbox actually drew for which resource (`GET /latency` on the admin endpoint).
"""

from __future__ import annotations

import argparse
import math
import random
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

Mode = Literal["instant", "realistic"]
Quantiles = tuple[float, float]

_Z90 = 1.2816
# Synchronous calls when no key is declared: reads are quick, writes a little slower.
READ_CALL: Quantiles = (0.08, 0.25)
WRITE_CALL: Quantiles = (0.25, 1.0)
DEFAULT_OPERATION: Quantiles = (10.0, 30.0)
# Terraform's longest default timeout (40 min): nothing real takes longer without failing.
CLIP_SECONDS = 2400.0

_TABLE: dict[str, Quantiles] = {}
_SUBJECT: ContextVar[str] = ContextVar("latency_subject", default="")
JOURNAL_SIZE = 200_000


@contextmanager
def subject(text: str) -> Iterator[None]:
    """Journal the samples drawn inside this block under `text` (a request, a cluster)."""
    token = _SUBJECT.set(text)
    try:
        yield
    finally:
        _SUBJECT.reset(token)


def declare(table: dict[str, Quantiles]) -> None:
    """Add or replace (p50, p90) seconds for keys; API modules call this at import."""
    for key, (p50, p90) in table.items():
        if not 0 < p50 <= p90:
            raise ValueError(f"latency {key}: need 0 < p50 <= p90, got {p50}, {p90}")
        _TABLE[key] = (p50, p90)


def declared(key: str) -> Quantiles | None:
    """The (p50, p90) declared for key, if any."""
    return _TABLE.get(key)


AUTO_UPGRADE_CHANCE = 0.1  # the latency model: "10 % chance of 300-1200 s"


def chance(text: str) -> float:
    """A command line's share from 0 to 1 (`--auto-upgrade-chance`): an argparse type, so
    that a value out of range is refused before anything starts."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1")
    return value


class LatencyModel:
    """Samples durations for operations, synchronous calls and propagation windows."""

    def __init__(
        self,
        mode: Mode = "instant",
        time_scale: float = 1.0,
        seed: int = 0,
        *,
        auto_upgrade_chance: float = AUTO_UPGRADE_CHANCE,
    ) -> None:
        if mode not in ("instant", "realistic"):
            raise ValueError(f"unknown latency mode {mode!r}")
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if not 0.0 <= auto_upgrade_chance <= 1.0:
            raise ValueError("auto_upgrade_chance must be between 0 and 1")
        self.mode: Mode = mode
        self.time_scale = time_scale
        self.seed = seed
        # realistic mode: the share of new GKE clusters that upgrade their control plane
        # by themselves right after create
        self.auto_upgrade_chance = auto_upgrade_chance
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_SIZE)

    @property
    def realistic(self) -> bool:
        """True when durations are sampled rather than zero."""
        return self.mode == "realistic"

    def sample(self, key: str, default: Quantiles = DEFAULT_OPERATION) -> float:
        """Seconds (already divided by time_scale) for key; 0 in instant mode."""
        if not self.realistic:
            return 0.0
        p50, p90 = _TABLE.get(key, default)
        sigma = math.log(p90 / p50) / _Z90
        with self._lock:
            value = min(math.exp(self._rng.gauss(math.log(p50), sigma)), CLIP_SECONDS)
            self._journal.append({"key": key, "subject": _SUBJECT.get(), "seconds": value})
        return value / self.time_scale

    def journal(self) -> list[dict[str, Any]]:
        """The samples drawn so far, oldest first, in model seconds (before time_scale); the
        oldest fall off after JOURNAL_SIZE."""
        with self._lock:
            return list(self._journal)

    def operation(self, key: str) -> float:
        """How long until a long-running operation for key is done."""
        return self.sample(key, DEFAULT_OPERATION)

    def call(self, method_id: str, write: bool) -> float:
        """How long a synchronous call takes before it answers."""
        return self.sample(f"call:{method_id}", WRITE_CALL if write else READ_CALL)

    def window(self, key: str) -> float:
        """Length of a propagation window (e.g. after enabling an API); 0 in instant mode."""
        return self.sample(key, (15.0, 30.0))

    def describe(self) -> dict[str, object]:
        """Settings for the admin endpoint."""
        return {"mode": self.mode, "timeScale": self.time_scale, "seed": self.seed}
