"""What every emulated API shares in one sandbox: state, clock, latency, faults, counters."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sandbox.clock import Clock
from sandbox.counters import Counters
from sandbox.faults import Faults
from sandbox.latency import LatencyModel
from sandbox.operations import Operations
from sandbox.store import Store

_META = "sandbox.meta"


@dataclass
class Runtime:
    """The shared services handed to every handler (as `call.rt`) and every effect."""

    store: Store
    latency: LatencyModel = field(default_factory=LatencyModel)
    faults: Faults = field(default_factory=Faults)
    counters: Counters = field(default_factory=Counters)
    clock: Clock = field(init=False)
    operations: Operations = field(init=False)
    # Set: the in-cluster controllers (Config Sync, KubeRay, …) make no passes. On Google they
    # run on the clusters, not beside the tool; a benchmark of the tool can set it aside.
    controllers_paused: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        meta = self.store.get(_META, "clock") or {}
        self.clock = Clock(float(meta.get("offset", 0.0)))
        self.operations = Operations(self)

    def now(self) -> float:
        """Sandbox time, seconds since the epoch."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the clock forward (persisted), then settle what became due; returns the offset."""
        offset = self.clock.advance(seconds)
        self.store.put(_META, "clock", {"offset": offset})
        self.operations.settle_due()
        return offset

    def reset(self) -> None:
        """Forget all state and counts (the clock offset and fault rules stay)."""
        self.store.reset()
        self.store.put(_META, "clock", {"offset": self.clock.offset})
        self.counters.reset()
