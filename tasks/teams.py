"""Tasks: a team on one environment (identity, credentials, readiness gates, access check)."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from mlplat.converge import teams
from mlplat.converge.context import EnvContext, Outcome
from mlplat.errors import PermanentError
from mlplat.specs import Team
from tasks._runtime import env_task
from tasks._secrets import github_token

IDENTITY_WORKERS = 4  # a few calls each: more threads would only contend for the GIL


@env_task("ensure-team-identities")
def ensure_team_identities(
    ctx: EnvContext, members: Sequence[Team], absent: bool = False
) -> dict[str, Outcome]:
    """Each member's Google service account, bound to its Kubernetes service account, a few at
    a time; outcomes by team. One task per environment, not one per team: a hundred task runs
    started together when the cluster comes up held back the cluster's own next steps (fleet
    membership, Config Sync) by seconds. Raises after every member was tried, naming each that
    failed."""
    with ThreadPoolExecutor(IDENTITY_WORKERS, thread_name_prefix="team-identity") as pool:
        started = {  # each in a copy of this task's context (Prefect's settings, the run)
            member.name: pool.submit(
                contextvars.copy_context().run,
                teams.ensure_team_identity,
                ctx,
                member,
                absent=absent,
            )
            for member in members
        }
    outcomes: dict[str, Outcome] = {}
    failed: list[tuple[str, BaseException]] = []
    for name, future in started.items():
        error = future.exception()
        if error is None:
            outcomes[name] = future.result()
        else:
            failed.append((name, error))
    if len(failed) == 1:
        raise failed[0][1]
    if failed:
        listed = " | ".join(f"{name}: {error}" for name, error in failed)
        raise PermanentError(f"{len(failed)} team identities failed: {listed}") from failed[0][1]
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
    access = teams.verify_access(ctx, member)
    if access.checked:
        ctx.log(
            f"access/{member.name}: {access.checked - len(access.failures)}/{access.checked} "
            "checks as expected"
        )
    for failure in access.failures:
        ctx.log(f"access/{member.name}: UNEXPECTED: {failure}")
    return [
        creds,
        sync,
        teams.wait_for_ray(ctx, member),
        teams.wait_for_notebook(ctx, member),
    ], access
