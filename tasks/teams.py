"""Tasks: a team on one environment (identity, credentials, readiness gates, access check)."""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

from mlplat.converge import teams
from mlplat.converge.cluster_software import cluster_reachable
from mlplat.converge.context import EnvContext, Outcome
from mlplat.errors import MlplatError, PermanentError
from mlplat.specs import Team
from tasks._runtime import env_task
from tasks._secrets import github_token

IDENTITY_WORKERS = 4  # a few calls each: more threads would only contend for the GIL
T = TypeVar("T")


@env_task("ensure-team-identities")
def ensure_team_identities(
    ctx: EnvContext, members: Sequence[Team], absent: bool = False
) -> dict[str, Outcome]:
    """Each member's Google service account, bound to its Kubernetes service account, a few at
    a time; outcomes by team. One task per environment, not one per team: a hundred task runs
    started together when the cluster comes up held back the cluster's own next steps (fleet
    membership, Config Sync) by seconds. Raises after every member was tried, naming each that
    failed."""
    identity = partial(teams.ensure_team_identity, absent=absent)
    return _each(ctx, members, identity, "team identities")


def _each(
    ctx: EnvContext, members: Sequence[Team], step: Callable[[EnvContext, Team], T], what: str
) -> dict[str, T]:
    """`step` for each member, a few at a time; results by team. Raises after every member was
    tried, naming each that failed (`what`: the steps, for the message)."""
    prefix = what.replace(" ", "-")
    with ThreadPoolExecutor(IDENTITY_WORKERS, thread_name_prefix=prefix) as pool:
        started = {  # each in a copy of this task's context (Prefect's settings, the run)
            member.name: pool.submit(contextvars.copy_context().run, step, ctx, member)
            for member in members
        }
    outcomes: dict[str, T] = {}
    failed: list[tuple[str, BaseException]] = []
    for team, future in started.items():
        error = future.exception()
        if error is None:
            outcomes[team] = future.result()
        else:
            failed.append((team, error))
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        listed = " | ".join(f"{team}: {error}" for team, error in failed)
        raise PermanentError(f"{len(failed)} {what} failed: {listed}") from failed[0][1]
    return outcomes


@env_task("ensure-team-credentials", "{ctx.env_name}/{member.name}")
def ensure_team_credentials(ctx: EnvContext, member: Team) -> Outcome:
    """`git-creds` in the team's namespace, for its RepoSync."""
    return teams.ensure_team_credentials(
        ctx, member, github_token(ctx.platform.gitops.token_secret)
    )


@env_task("wait-for-team-sync", "{ctx.env_name}/{member.name}")
def wait_for_team_sync(ctx: EnvContext, member: Team, commit: str | None) -> Outcome:
    """The team's RepoSync has synced `commit`."""
    return teams.wait_for_repo_sync(ctx, member, commit)


@env_task("wait-for-team-workloads", "{ctx.env_name}/{member.name}")
def wait_for_team_workloads(ctx: EnvContext, member: Team) -> list[Outcome]:
    """The team's RayCluster is ready and its notebook available (each when enabled)."""
    return [teams.wait_for_ray(ctx, member), teams.wait_for_notebook(ctx, member)]


@env_task("ensure-team-space", "{ctx.env_name}/{member.name}")
def ensure_team_space(
    ctx: EnvContext, member: Team, commit: str | None
) -> tuple[list[Outcome], teams.AccessResult]:
    """The team's side of its cluster, in order: `git-creds`, its RepoSync synced at `commit`,
    the access check, then its RayCluster and notebook ready. One task, not four: a provisioning
    run has one per team and environment, and each task run costs Prefect (client and server)
    more CPU than the calls it makes."""
    creds = teams.ensure_team_credentials(
        ctx, member, github_token(ctx.platform.gitops.token_secret)
    )
    sync = teams.wait_for_repo_sync(ctx, member, commit)
    access = _checked(ctx, member)
    return [
        creds,
        sync,
        teams.wait_for_ray(ctx, member),
        teams.wait_for_notebook(ctx, member),
    ], access


def _checked(ctx: EnvContext, member: Team) -> teams.AccessResult:
    """The member's access check, logged: how many reviews were as expected, and each that
    was not."""
    access = teams.verify_access(ctx, member)
    log_access(ctx.log, member, access)
    return access


def log_access(log: Callable[[str], object], member: Team, access: teams.AccessResult) -> None:
    """How many of the member's reviews were as expected, and each that was not."""
    if access.checked:
        log(
            f"access/{member.name}: {access.checked - len(access.failures)}/{access.checked} "
            "checks as expected"
        )
    for failure in access.failures:
        log(f"access/{member.name}: UNEXPECTED: {failure}")


@env_task("verify-team-access")
def verify_team_access(ctx: EnvContext, members: Sequence[Team]) -> dict[str, teams.AccessResult]:
    """The access check of every member whose space the run's observation found settled (the
    others are checked in their own space's task), a few members at a time; results by team."""
    return _each(ctx, members, _checked, "team access checks")


@env_task("verify-team-access")
def probe_team_access(ctx: EnvContext, members: Sequence[Team]) -> dict[str, teams.AccessResult]:
    """Every member's access check, started with the run's observation (a converged run's
    longest step then overlaps it); nothing when the cluster cannot be asked yet or a check
    fails to run: the run then checks in its tasks, as `verify_team_access` and the space tasks
    do."""
    try:
        if not cluster_reachable(ctx, once=True):  # never waits out a disabled Hub API
            return {}
        # logged by the run for the teams that take these results (`log_access`)
        return _each(ctx, members, teams.verify_access, "team access checks")
    except MlplatError as exc:
        ctx.log(f"access checks of {ctx.env_name}: {exc}; checked again after the observation")
        return {}
