"""What every converge step needs: the target, the environment, dry-run, deadlines, a logger."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mlplat.errors import PermanentError
from mlplat.gcp import projects
from mlplat.gcp.waiting import OperationFailedError
from mlplat.kinds.descriptor import InEnvironment
from mlplat.plan import Action, Change
from mlplat.specs import PlatformSpec, naming
from mlplat.target import Target, git_url

_LOG = logging.getLogger("mlplat")
T = TypeVar("T")
START_ATTEMPTS = 3  # how often, in all, a step whose operation failed retryably is started


@dataclass(frozen=True)
class Deadlines:
    """How long to wait on each kind of long-running work before a run gives up (a re-run
    resumes where it stopped). Terraform's defaults, for comparison: cluster 40 min."""

    project: float = 600
    services: float = 1200
    network: float = 1200
    cluster: float = 3600
    node_pool: float = 3600
    membership: float = 1200
    sync: float = 900
    review: float = 86400  # a pull request into a protected branch waiting for approval


@dataclass(frozen=True)
class EnvContext(InEnvironment):
    """One environment of the platform on one target."""

    spec: PlatformSpec
    env_name: str
    target: Target
    dry_run: bool = False
    deadlines: Deadlines = Deadlines()
    log: Callable[[str], Any] = field(default=_LOG.info, compare=False)

    @property
    def repo_url(self) -> str:
        """The GitOps repository's address on the target (Config Sync reads it)."""
        gitops = self.platform.gitops
        return git_url(self.target, gitops.owner, gitops.repository)

    @property
    def cluster_parent(self) -> str:
        return f"projects/{self.project}/locations/{self.region}"

    @property
    def cluster_path(self) -> str:
        return f"{self.cluster_parent}/clusters/{naming.cluster_name(self.platform, self.env)}"


@dataclass(frozen=True)
class Outcome:
    """What a converge step found and did."""

    change: Change
    applied: bool = False
    detail: str = ""

    @property
    def created(self) -> bool:
        return self.change.action is Action.CREATE

    def row(self) -> dict[str, str]:
        """A row of the plan / summary table artifact."""
        fields = ", ".join(f.path for f in self.change.fields)
        return {
            "resource": f"{self.change.kind} {self.change.name}",
            "action": self.change.action.value,
            "fields": fields,
            "applied": "yes" if self.applied else "no",
            "detail": self.detail,
        }


def report(ctx: EnvContext, change: Change, *, applied: bool, detail: str = "") -> Outcome:
    """Log one line for the change and return its outcome."""
    line = change.describe()
    if ctx.dry_run and change.action is not Action.NOOP:
        line = f"{line} (planned)"
    ctx.log(line + (f" — {detail}" if detail else ""))
    return Outcome(change, applied=applied, detail=detail)


def skipped_gate(ctx: EnvContext, gate: str, name: str, detail: str) -> Outcome:
    """A readiness gate not waited on (a dry run plans without waiting, or there is nothing
    to wait for): a NOOP, saying why in `detail`."""
    return report(ctx, Change(gate, name, Action.NOOP), applied=False, detail=detail)


def restarting(ctx: EnvContext, what: str, step: Callable[[], T]) -> T:
    """Run `step` (start an operation, wait on it); when the operation ends in an error that a
    new attempt may cure (INTERNAL, UNAVAILABLE…), say so and run it again, START_ATTEMPTS
    times in all. `step` observes first, so a new attempt never starts a second operation."""
    for attempt in range(1, START_ATTEMPTS):
        try:
            return step()
        except OperationFailedError as exc:
            if not exc.retryable:
                raise
            ctx.log(f"{what}: {exc}; starting again ({attempt + 1} of {START_ATTEMPTS})")
    return step()


def membership_key(ctx: EnvContext) -> str:
    """`projects/<number>/locations/global/memberships/<id>`, as Hub keys membership specs."""
    number = projects.number(ctx.target, ctx.project)
    if number is None:
        raise PermanentError(f"project {ctx.project} not found")
    membership = naming.membership_id(ctx.platform, ctx.env)
    return f"projects/{number}/locations/global/memberships/{membership}"
