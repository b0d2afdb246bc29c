"""What every GitHub handler shares: the runtime, where repositories live, the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.github.accounts import Account, SeedUser, create_org, create_user, user_for_token
from sandbox.github.gitrepo import GitRepo
from sandbox.github.ratelimit import RateLimiter
from sandbox.github.repo_settings import repo_path
from sandbox.runtime import Runtime
from sandbox.store import Store

META = "github.meta"


@dataclass
class Service:
    """The GitHub service's state, handed to every request."""

    rt: Runtime
    root: Path  # <state_dir>/github/repos
    limiter: RateLimiter
    users: tuple[SeedUser, ...]
    orgs: tuple[str, ...]

    @property
    def store(self) -> Store:
        """The sandbox store."""
        return self.rt.store

    def now(self) -> float:
        """Sandbox time."""
        return self.rt.now()

    def git(self, repo: dict[str, Any]) -> GitRepo:
        """The bare repository of a settings document."""
        return GitRepo(repo_path(self.root, repo))

    def seed(self) -> None:
        """Create the seed organizations and users (idempotent)."""
        with self.store.transaction():
            for org in self.orgs:
                create_org(self.store, org, self.now())
            for user in self.users:
                create_user(
                    self.store,
                    user.login,
                    user.token,
                    orgs=user.orgs,
                    admin=user.admin,
                    now=self.now(),
                )
            self.store.put(META, "seeded", {"at": self.now()})

    def authenticate(self, token: str) -> Account | None:
        """The user of a token; seeds again first if the store was reset meanwhile."""
        user = user_for_token(self.store, token)
        if user is None and self.store.get(META, "seeded") is None:
            self.seed()
            user = user_for_token(self.store, token)
        return user
