"""The whole platform spec: one platform, its environments and its teams, validated together."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from mlplat.specs.models import Environment, Platform, Team


class PlatformSpec(BaseModel):
    """A validated platform: every file checked alone and all of them checked together."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    environments: dict[str, Environment]
    teams: dict[str, Team]

    def teams_in(self, environment: str) -> tuple[Team, ...]:
        """The teams that are in `environment`, by name."""
        return tuple(
            team for _, team in sorted(self.teams.items()) if environment in team.environments
        )
