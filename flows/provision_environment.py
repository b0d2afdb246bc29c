"""Flow: one environment from nothing (or from drift) to a private GKE cluster in the fleet
with Config Sync and Policy Controller, in dependency order with independent steps in parallel."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows._approval import approve_plan
from flows._locks import environment_lock
from flows._observed import Done, Known, every, first, observe
from flows._start_together import wait_for_siblings
from flows._teams import converge_teams, start_identities
from mlplat import target as targets
from mlplat.converge import settled
from mlplat.converge.context import EnvContext, Outcome
from mlplat.converge.fleet import CONFIG_MANAGEMENT, POLICY_CONTROLLER
from mlplat.converge.gitops import BranchState
from mlplat.plan import Action
from mlplat.render import cluster as render_cluster
from mlplat.specs import PlatformSpec, load_spec
from mlplat.specs.naming import config_sync_branch
from tasks import cluster_software, clusters, fleet, gitops, identity, network, projects

DEFAULT_SPEC_DIR = "infra_specs"


def context(env: str, spec_dir: str, dry_run: bool, endpoints: str | None) -> EnvContext:
    """The environment's context: validated spec (before any API call) and the target."""
    return context_of(load_spec(Path(spec_dir)), env, dry_run, endpoints)


def context_of(spec: PlatformSpec, env: str, dry_run: bool, endpoints: str | None) -> EnvContext:
    """The context of `env` in an already loaded spec."""
    if env not in spec.environments:
        known = ", ".join(sorted(spec.environments))
        raise ValueError(f"unknown environment {env!r} (known: {known})")
    target = targets.sandbox_from_file(Path(endpoints)) if endpoints else targets.from_environment()
    return EnvContext(spec=spec, env_name=env, target=target, dry_run=dry_run)


def _absent(ctx: EnvContext, *upstream: Outcome) -> bool:
    """In a dry run, what depends on a resource still to be created cannot be observed."""
    return ctx.dry_run and any(outcome.created for outcome in upstream)


def converge_environment(ctx: EnvContext, known: Known | None = None) -> list[Outcome]:
    """Every step of the chain for one environment; returns the outcomes in order. A run that
    changes things observes the environment first (`known`, else observed here): the steps it
    settles make no task run, the others run as tasks in the same order and parallelism (a
    cold run: every step)."""
    known = known if known is not None else observe(ctx)
    project = known.one(settled.PROJECT, lambda: projects.ensure_project(ctx))
    absent = _absent(ctx, project)
    # services that bill need the link first
    billing = known.one(settled.BILLING, lambda: projects.ensure_billing(ctx, absent))
    services = known.one(settled.SERVICES, lambda: projects.ensure_services(ctx, absent))
    absent_apis = _absent(ctx, project, services)
    node_identity = known.later(
        settled.NODE_IDENTITY,
        lambda: identity.ensure_node_service_account.submit(ctx, absent_apis),
        first,
    )
    vpc = known.one(settled.NETWORK, lambda: network.ensure_network(ctx, absent_apis))
    absent_net = _absent(ctx, project, services, vpc)
    subnet = known.later(
        settled.SUBNET, lambda: network.ensure_subnet.submit(ctx, absent_net), first
    )
    router = known.later(
        settled.ROUTER, lambda: network.ensure_router.submit(ctx, absent_net), first
    )
    reservations = known.later(
        settled.RESERVATIONS, lambda: network.ensure_reservations.submit(ctx, absent_apis), every
    )
    feature = known.later(
        settled.feature(CONFIG_MANAGEMENT),
        lambda: fleet.ensure_feature.submit(ctx, CONFIG_MANAGEMENT, absent_apis),
        first,
    )
    policy_feature = known.later(
        settled.feature(POLICY_CONTROLLER),
        lambda: fleet.ensure_feature.submit(ctx, POLICY_CONTROLLER, absent_apis),
        first,
    )
    repository = known.later(
        settled.GITOPS,
        lambda: gitops.ensure_gitops.submit(ctx),
        lambda found: (
            list(found),
            BranchState(config_sync_branch(ctx.env), str(known.settled.head)),
        ),
    )
    subnet_outcome = subnet.result()
    node_identity_outcome = node_identity.result()
    absent_subnet = _absent(ctx, project, services, subnet_outcome)
    cluster = known.one(settled.CLUSTER, lambda: clusters.ensure_cluster(ctx, absent_subnet))
    absent_cluster = _absent(ctx, project, cluster)
    members = ctx.spec.teams_in(ctx.env_name)
    identities = start_identities(ctx, members, absent=absent_apis, known=known)
    reservation_outcomes = reservations.result()
    pools = [
        known.later(
            settled.node_pool(pool.name),
            partial(clusters.ensure_node_pool.submit, ctx, pool, absent_cluster),
            first,
        )
        for pool in render_cluster.every_pool(ctx.platform, ctx.env, ctx.project)
    ]
    membership = known.one(settled.MEMBERSHIP, lambda: fleet.ensure_membership(ctx, absent_cluster))
    feature_outcome = feature.result()
    policy_feature_outcome = policy_feature.result()
    absent_policy = _absent(ctx, project, membership, policy_feature_outcome)
    policy = known.later(
        settled.POLICY_CONTROLLER,
        lambda: fleet.ensure_policy_controller.submit(ctx, absent_policy),
        first,
    )
    git_outcomes, branch = repository.result()
    repo = targets.git_url(ctx.target, ctx.platform.gitops.owner, ctx.platform.gitops.repository)
    absent_config = _absent(ctx, project, membership, feature_outcome)
    config = known.one(
        settled.CONFIG_MANAGEMENT, lambda: fleet.ensure_config_management(ctx, repo, absent_config)
    )
    commit = branch.head if branch else None
    software = known.later(
        settled.CLUSTER_SOFTWARE,
        lambda: Done(cluster_software.ensure_cluster_software(ctx, commit)),
        every,
    ).result()
    team_outcomes, _ = converge_teams(ctx, members, commit, identities=identities, known=known)
    return [
        project,
        billing,
        services,
        node_identity_outcome,
        vpc,
        subnet_outcome,
        router.result(),
        *reservation_outcomes,
        feature_outcome,
        policy_feature_outcome,
        cluster,
        *(p.result() for p in pools),
        membership,
        *git_outcomes,
        config,
        policy.result(),
        *software,
        *team_outcomes,
    ]


def publish(
    ctx: EnvContext,
    outcomes: list[Outcome],
    what: str = "",
    how: Callable[[Outcome], str] | None = None,
) -> dict[str, Any]:
    """The plan (dry run) or summary table artifact, and the counts it shows; `what` names a
    run that is not the whole environment's (e.g. `offboard-nlp`); `how` adds a column
    `observed` to the artifact: how the run knows each outcome (its observation and what it
    compared, or a task run)."""
    rows = [outcome.row() for outcome in outcomes]
    counts = {action.value: 0 for action in Action}
    for outcome in outcomes:
        counts[outcome.change.action.value] += 1
    kind = "plan" if ctx.dry_run else "summary"
    prefix = f"{what}-" if what else ""
    table = rows
    if how is not None:
        table = [{**row, "observed": how(o)} for row, o in zip(rows, outcomes, strict=True)]
    create_table_artifact(
        table=table,
        key=f"{kind}-{prefix}{ctx.env_name}",
        description=f"mlplat {kind} of {what + ' in ' if what else ''}environment {ctx.env_name}: "
        + ", ".join(f"{n} {a}" for a, n in counts.items() if n),
    )
    return {"environment": ctx.env_name, "dry_run": ctx.dry_run, "counts": counts, "rows": rows}


@flow(name="provision-environment", flow_run_name="provision-environment[{env}]")
def provision_environment(
    env: str,
    dry_run: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
    *,
    approved: bool = False,
    approval_timeout: int = 86400,
) -> dict[str, Any]:
    """Converge one environment: project → network → private GKE → fleet → Config Sync →
    cluster software → every team of the environment (as onboard-team does).

    With `dry_run` nothing is changed and the plan is published as a table artifact.
    An environment whose spec sets `approval_required` publishes its plan and pauses until it
    is approved (`mlplat approve ENV`, or the Prefect UI; `approved=True`: approved
    beforehand, e.g. `mlplat up --approve`); rejected, nothing changes. Approved after the
    world changed, it plans again and pauses again if the plan differs.
    `endpoints` names a sandbox's endpoints.json (default: $MLPLAT_SANDBOX_ENDPOINTS, else
    Google with Application Default Credentials)."""
    wait_for_siblings()  # under provision-platform: the other environments' runs exist too
    ctx = context(env, spec_dir, dry_run, endpoints)
    logger = get_run_logger()
    logger.info(
        "environment %s: project %s on %s%s",
        env,
        ctx.project,
        ctx.target.name,
        " (dry run)" if dry_run else "",
    )
    if dry_run:
        return publish(ctx, converge_environment(ctx))
    with environment_lock(ctx):  # held while paused: nothing changes between plan and apply
        if ctx.env.approval_required and not approved:
            planning = dataclasses.replace(ctx, dry_run=True)
            plan, decision = approve_plan(
                env, lambda: publish(planning, converge_environment(planning)), approval_timeout
            )
            if decision is not None and not decision.approve:
                return {**plan, "approved": False, "reason": decision.reason}
        known = observe(ctx)  # observe first; act on the difference
        return publish(ctx, converge_environment(ctx, known), how=known.how)
