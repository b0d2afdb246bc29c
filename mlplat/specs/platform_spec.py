"""The whole platform spec: one platform, its environments and its teams, validated together."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, PrivateAttr

from mlplat.specs.models import Environment, Platform, Team
from mlplat.specs.yamlsource import KeyPath, Origin


class PlatformSpec(BaseModel):
    """A validated platform: every file checked alone and all of them checked together."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    environments: dict[str, Environment]
    teams: dict[str, Team]
    # where each key of the spec files was written (set by load_spec), for later errors
    _origins: dict[KeyPath, Origin] = PrivateAttr(default_factory=dict)

    def origin(self, path: KeyPath) -> Origin:
        """Where `path` (e.g. `("environments", "dev", "cluster", "min_master_version")`) or its
        nearest written ancestor was written; for a spec not loaded from files, a guess."""
        for end in range(len(path), 0, -1):
            found = self._origins.get(tuple(path[:end]))
            if found is not None:
                return found
        return Origin(Path("/".join(str(p) for p in path[:2]) + ".yaml"), 1)

    def remember_origins(self, origins: dict[KeyPath, Origin]) -> None:
        """Keep the origins of the files this spec was loaded from."""
        self._origins = dict(origins)

    def teams_in(self, environment: str) -> tuple[Team, ...]:
        """The teams that are in `environment`, by name."""
        return tuple(
            team for _, team in sorted(self.teams.items()) if environment in team.environments
        )
