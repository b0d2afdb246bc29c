"""Drift of one environment: the dry run of every step provisioning takes (the same comparisons,
so a freshly provisioned environment shows nothing), read in one thread without a task per step,
with the teams observed by listing (`team_drift`) and the cluster's objects, syncs and
RayClusters by listing (`cluster_drift`). Readiness gates are not part of drift."""

from __future__ import annotations

from mlplat.converge import (
    cluster,
    cluster_drift,
    cluster_software,
    fleet,
    gitops,
    identity,
    network,
    project,
    team_drift,
    unmanaged,
)
from mlplat.converge.context import EnvContext, Outcome
from mlplat.converge.findings import DriftClass, Finding, findings
from mlplat.errors import OwnershipError
from mlplat.gcp import iam, projects
from mlplat.git.gitops_repo import connect
from mlplat.k8s import connection
from mlplat.plan import Action
from mlplat.render import cluster as render_cluster
from mlplat.render.desired import ownership_labels
from mlplat.specs import naming
from mlplat.target import git_url


def observe_environment(ctx: EnvContext, token: str) -> list[Finding]:
    """Every difference between the spec and the environment `ctx` names (a dry-run context).

    A project under the environment's ID that does not carry mlplat's ownership labels is one
    finding, and nothing in it is looked at: mlplat cannot prove it is its own (a project ID
    may be someone else's), so it is never changed here; a human labels it to adopt it."""
    if not ctx.dry_run:
        raise ValueError("observe_environment needs a dry-run context")
    try:
        observed = _dry_run(ctx, token)
        if observed is None:
            return [_project_not_ours(ctx)]
        outcomes, reachable, outside = observed
        inside = cluster_drift.cluster_findings(ctx) if reachable else []
        return findings(ctx.env_name, outcomes) + outside + inside
    finally:
        connection.release_thread_clients()  # the next environment is another cluster


def _project_not_ours(ctx: EnvContext) -> Finding:
    observed = projects.get(ctx.target, ctx.project) or {}
    labels = observed.get("labels") or {}
    wanted = ownership_labels(ctx.platform.name, ctx.env_name)
    return Finding(
        ctx.env_name,
        f"project {ctx.project}",
        DriftClass.LABELS_CHANGED,
        "labels",
        ", ".join(f"{k}={v}" for k, v in sorted(wanted.items())),
        ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) + " (label it to adopt it)",
    )


def _absent(*upstream: Outcome) -> bool:
    return any(outcome.created for outcome in upstream)


def _dry_run(ctx: EnvContext, token: str) -> tuple[list[Outcome], bool, list[Finding]] | None:
    """The outcomes of every step, whether the cluster can be asked, and the unmanaged
    children on Google's side; None when the project is not provably mlplat's."""
    try:
        proj = project.ensure_project(ctx)
    except OwnershipError:
        return None
    absent = _absent(proj)
    billing = project.ensure_billing(ctx, project_absent=absent)
    services = project.ensure_services(ctx, project_absent=absent)
    enabled = _absent(proj, services)
    ready = not enabled and services.change.action is Action.NOOP
    # Listed once for the teams' identities and the unmanaged accounts (when IAM answers).
    accounts = iam.list_service_accounts(ctx.target, ctx.project) if ready else None
    node_identity = identity.ensure_node_service_account(ctx, absent=enabled)
    vpc = network.ensure_network(ctx, absent=enabled)
    subnet = network.ensure_subnet(ctx, absent=_absent(proj, services, vpc))
    router = network.ensure_router(ctx, absent=_absent(proj, services, vpc))
    reservations = network.ensure_reservations(ctx, absent=enabled)
    feature = fleet.ensure_feature(ctx, fleet.CONFIG_MANAGEMENT, absent=enabled)
    policy_feature = fleet.ensure_feature(ctx, fleet.POLICY_CONTROLLER, absent=enabled)
    gh = connect(ctx.target, token)
    repo_outcome, repo = gitops.ensure_repository(ctx, gh)
    branch, head = gitops.ensure_branch(ctx, repo)
    protection = gitops.ensure_protection(ctx, repo)
    manifests, _ = gitops.ensure_manifests(ctx, repo, head)
    gke = cluster.ensure_cluster(ctx, absent=_absent(proj, services, subnet))
    absent_cluster = _absent(proj, gke)
    pools = [
        cluster.ensure_node_pool(ctx, pool, absent=absent_cluster)
        for pool in render_cluster.every_pool(ctx.platform, ctx.env, ctx.project)
    ]
    membership = fleet.ensure_membership(ctx, absent=absent_cluster)
    repo_url = git_url(ctx.target, ctx.platform.gitops.owner, ctx.platform.gitops.repository)
    config = fleet.ensure_config_management(
        ctx, repo_url, absent=_absent(proj, membership, feature)
    )
    policy = fleet.ensure_policy_controller(ctx, absent=_absent(proj, membership, policy_feature))
    reachable = cluster_software.cluster_reachable(ctx)
    secrets = team_drift.git_creds_secrets(ctx) if reachable else {}
    root = naming.CONFIG_MANAGEMENT_NAMESPACE
    root_creds = cluster_software.git_creds_outcome(ctx, token, root, secrets.get(root))
    teams = team_drift.observe_teams(
        ctx, token, secrets, absent=enabled, services_ready=ready, accounts=accounts
    )
    outside = unmanaged.google_findings(ctx, accounts) if accounts is not None else []
    outcomes = [
        proj,
        billing,
        services,
        node_identity,
        vpc,
        subnet,
        router,
        *reservations,
        feature,
        policy_feature,
        repo_outcome,
        branch,
        protection,
        manifests,
        gke,
        *pools,
        membership,
        config,
        policy,
        root_creds,
        *teams,
    ]
    return outcomes, reachable, outside
