"""Where mlplat's API calls go: Google itself, or the sandbox's local endpoints."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mlplat.errors import PermanentError

ENDPOINTS_ENV = "MLPLAT_SANDBOX_ENDPOINTS"

# Official API hosts (used when no sandbox endpoint overrides them).
GOOGLE_APIS = (
    "cloudresourcemanager",
    "cloudbilling",
    "serviceusage",
    "compute",
    "container",
    "gkehub",
    "iam",
    "cloudasset",
)


@dataclass(frozen=True)
class Target:
    """The cloud mlplat talks to. `endpoints` pairs an API name with a base URL (sandbox);
    none means Google's own endpoints with Application Default Credentials. Hashable, so
    clients can be cached per target."""

    name: str
    endpoints: tuple[tuple[str, str], ...] = ()
    admin_url: str | None = None
    # The IAM member mlplat calls as, when known (`user:…`, `serviceAccount:…`): the creator,
    # and so an owner, of the projects it creates.
    caller: str = ""

    @property
    def is_sandbox(self) -> bool:
        return bool(self.endpoints)

    def endpoint(self, api: str) -> str | None:
        """Base URL of `api` on this target, or None for Google's default."""
        return dict(self.endpoints).get(api)


def google() -> Target:
    """Google Cloud itself, with Application Default Credentials."""
    return Target(name="gcp")


def sandbox_from_file(path: Path) -> Target:
    """The sandbox described by its `endpoints.json`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PermanentError(f"cannot read sandbox endpoints {path}: {exc}") from exc
    apis = data.get("apis")
    if not isinstance(apis, dict) or not apis:
        raise PermanentError(f"{path}: no 'apis' map of endpoints")
    components = data.get("components") if isinstance(data.get("components"), dict) else {}
    merged = {**apis, **components}
    endpoints = tuple(sorted((str(k), str(v)) for k, v in merged.items()))
    caller = data.get("caller")
    return Target(
        name="sandbox",
        endpoints=endpoints,
        admin_url=data.get("admin"),
        caller=caller if isinstance(caller, str) else "",
    )


def from_environment() -> Target:
    """The sandbox named by MLPLAT_SANDBOX_ENDPOINTS, else Google."""
    path = os.environ.get(ENDPOINTS_ENV)
    return sandbox_from_file(Path(path)) if path else google()


def git_url(target: Target, owner: str, repository: str) -> str:
    """HTTPS clone URL of the GitOps repository on GitHub (or on the sandbox's GitHub)."""
    base = target.endpoint("github") or "https://github.com"
    return f"{base.rstrip('/')}/{owner}/{repository}.git"
