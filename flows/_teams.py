"""The per-team part of a run, shared by provision_environment and onboard_team: each team's
identity, credentials, RepoSync and workload gates and access check (teams in parallel), and
one artifact per team."""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.futures import PrefectFuture

from flows._observed import Known
from mlplat.converge import settled
from mlplat.converge.context import EnvContext, Outcome
from mlplat.converge.teams import AccessResult
from mlplat.errors import PermanentError
from mlplat.render import notebook, raycluster
from mlplat.specs import Team
from tasks import teams as team_tasks

PUBLISHERS = 4  # concurrent artifact writes of one environment's teams


class Identities:
    """The members' identity outcomes: those the run's observation settled, and one task for
    the others."""

    def __init__(
        self, settled: dict[str, Outcome], task: PrefectFuture[dict[str, Outcome]] | None
    ) -> None:
        self.settled, self.task = settled, task

    def result(self) -> dict[str, Outcome]:
        return {**self.settled, **(self.task.result() if self.task is not None else {})}


def start_identities(
    ctx: EnvContext, members: Sequence[Team], *, absent: bool = False, known: Known | None = None
) -> Identities:
    """Submit the members' Google identities (service accounts and Workload Identity bindings)
    that the run's observation did not settle. The binding names the project's workload pool,
    which exists once the cluster does: a provisioning run starts this as soon as the cluster
    is up, not after Config Sync."""
    known = known or Known()
    settled_ones: dict[str, Outcome] = {}
    others = []
    for member in members:
        found = known.take(settled.team_identity(member.name))
        if found:
            settled_ones[member.name] = found[0]
        else:
            others.append(member)
    task = team_tasks.ensure_team_identities.submit(ctx, others, absent) if others else None
    return Identities(settled_ones, task)


def converge_teams(
    ctx: EnvContext,
    members: Sequence[Team],
    commit: str | None,
    *,
    absent: bool = False,
    identities: Identities | None = None,
    known: Known | None = None,
) -> tuple[list[Outcome], list[dict[str, Any]]]:
    """Onboard `members` (in parallel) once root-sync has synced `commit`; fails when any
    member's access is not what their role says, after publishing every team's artifact.
    `identities`: the members' identities if already started (`start_identities`). A member
    whose space the run's observation settled (`known`) has no task of its own: its access is
    checked with the other settled members' in one task."""
    known = known or Known()
    started = (
        identities
        if identities is not None
        else start_identities(ctx, members, absent=absent, known=known)
    )
    # Nothing in a team's space uses its Google identity, so both run at once; a team is
    # reported ready only with both (its workloads can act as it).
    spaces = {member.name: known.take(settled.team_space(member.name)) for member in members}
    quiet = [member for member in members if spaces[member.name] is not None]
    early = known.access.result() if known.access is not None and quiet else {}
    for member in quiet:
        if member.name in early:
            team_tasks.log_access(get_run_logger().info, member, early[member.name])
    late = [member for member in quiet if member.name not in early]
    checks = team_tasks.verify_team_access.submit(ctx, late) if late else None
    pending = {
        member.name: team_tasks.ensure_team_space.submit(ctx, member, commit, return_state=False)
        for member in members
        if spaces[member.name] is None
    }
    own = started.result()  # first: an identity's error rather than a later symptom
    checked_quietly = {**early, **(checks.result() if checks is not None else {})}
    outcomes: list[Outcome] = []
    done = []
    failed = []
    for member in members:
        found = spaces[member.name]
        if found is not None:
            cluster_steps, checked = list(found), checked_quietly[member.name]
        else:
            cluster_steps, checked = pending[member.name].result()
        steps = [own[member.name], *cluster_steps]
        done.append((member, steps, checked))
        outcomes += steps
        if checked.failures:
            failed.append(f"{member.name}: " + "; ".join(checked.failures))
    reports = publish_teams(ctx, done)
    if failed:
        raise PermanentError("access check failed: " + " | ".join(failed))
    return outcomes, reports


def publish_teams(
    ctx: EnvContext, done: list[tuple[Team, list[Outcome], AccessResult]]
) -> list[dict[str, Any]]:
    """Every team's artifact (`publish_team`), a few at a time: one Prefect call each."""
    with ThreadPoolExecutor(PUBLISHERS, thread_name_prefix="team-artifact") as pool:
        published = [  # each in a copy of this flow's context (its run, Prefect's client)
            pool.submit(contextvars.copy_context().run, publish_team, ctx, member, steps, checked)
            for member, steps, checked in done
        ]
    return [future.result() for future in published]


def _members(member: Team) -> dict[str, list[str]]:
    roles = {}
    for role in ("admin", "developer", "viewer"):
        members = getattr(member.members, role)
        names = [*members.users, *(f"group:{g}" for g in members.groups)]
        if names:
            roles[role] = names
    return roles


def team_report(
    ctx: EnvContext, member: Team, steps: list[Outcome], access: AccessResult
) -> dict[str, Any]:
    """What the team's artifact shows, as data (also the flows' result)."""
    quota = member.quota
    return {
        "team": member.name,
        "environment": ctx.env_name,
        "namespace": member.namespace_name,
        "members": _members(member),
        "quota": {"cpu": quota.cpu, "memory": quota.memory, "gpu": quota.gpu, "pods": quota.pods},
        "ray_endpoint": raycluster.endpoint(member) if member.ray.enabled else None,
        "notebook": notebook.name(member) if member.notebook.enabled else None,
        "access": {"checked": access.checked, "failures": list(access.failures)},
        "rows": [step.row() for step in steps],
    }


def publish_team(
    ctx: EnvContext, member: Team, steps: list[Outcome], access: AccessResult
) -> dict[str, Any]:
    """The team's markdown artifact (key `team-<team>-<env>`); returns its data."""
    data = team_report(ctx, member, steps, access)
    lines = [
        f"# Team {member.name} on {ctx.env_name}" + (" (plan)" if ctx.dry_run else ""),
        "",
        f"- **Namespace**: `{data['namespace']}`",
    ]
    for role, names in data["members"].items():
        lines.append(f"- **{role}**: " + ", ".join(f"`{n}`" for n in names))
    q = data["quota"]
    lines.append(
        f"- **Quota**: {q['cpu']} CPU, {q['memory']} memory, {q['gpu']} GPU, {q['pods']} pods"
    )
    if data["ray_endpoint"]:
        lines.append(f"- **Ray**: `{data['ray_endpoint']}`")
    if data["notebook"]:
        lines.append(
            f"- **Notebook**: `kubectl port-forward -n {data['namespace']} "
            f"svc/{data['notebook']} {notebook.PORT}`"
        )
    if ctx.dry_run:
        lines.append("- **Access check**: runs after onboarding")
    elif access.failures:
        lines.append(f"- **Access check**: FAILED ({len(access.failures)} of {access.checked})")
        lines += [f"  - {failure}" for failure in access.failures]
    else:
        lines.append(f"- **Access check**: {access.checked} SubjectAccessReviews as expected")
    lines += ["", "| resource | action | detail |", "|---|---|---|"]
    lines += [f"| {r['resource']} | {r['action']} | {r['detail']} |" for r in data["rows"]]
    create_markdown_artifact(
        markdown="\n".join(lines),
        key=f"team-{member.name}-{ctx.env_name}",
        description=f"mlplat team {member.name} on {ctx.env_name}",
    )
    return data
