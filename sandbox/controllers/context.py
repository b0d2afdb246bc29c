"""What one pass of the controllers hands to every controller."""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.clock import rfc3339
from sandbox.controllers.gitsource import GitReader
from sandbox.controllers.settings import Settings
from sandbox.runtime import Runtime


@dataclass(frozen=True)
class Context:
    """The runtime, the settings, the git reader, and the pass's sandbox time."""

    rt: Runtime
    settings: Settings
    reader: GitReader
    now: float

    @property
    def stamp(self) -> str:
        """`now` as Kubernetes writes timestamps."""
        return rfc3339(self.now).split(".")[0] + "Z"
