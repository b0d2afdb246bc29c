"""One environment observed in batch: the dry run of every step provisioning takes (the steps'
own comparisons, so a converged environment plans nothing), read in one thread without a task
per step, the teams' identities and `git-creds` Secrets by listing (`team_drift`). Drift reports
what differs (`environment_drift`); a provisioning run acts only on it (`settled`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlplat.converge import (
    cluster,
    cluster_software,
    fleet,
    gitops,
    identity,
    network,
    project,
    team_drift,
)
from mlplat.converge.context import EnvContext, Outcome
from mlplat.errors import OwnershipError
from mlplat.gcp import iam
from mlplat.git.gitops_repo import connect
from mlplat.plan import Action
from mlplat.render import cluster as render_cluster
from mlplat.specs import naming
from mlplat.target import git_url


@dataclass(frozen=True)
class Observation:
    """The dry-run outcome of every step of one environment, as provisioning orders them."""

    project: Outcome
    billing: Outcome
    services: Outcome
    node_identity: Outcome
    network: Outcome
    subnet: Outcome
    router: Outcome
    reservations: tuple[Outcome, ...]
    feature: Outcome
    policy_feature: Outcome
    git: tuple[Outcome, ...]  # repository, branch, protection, manifests
    head: str | None  # the environment's branch head, when it exists
    cluster: Outcome
    pools: tuple[Outcome, ...]
    membership: Outcome
    config: Outcome
    policy: Outcome
    root_credentials: Outcome
    team_identities: dict[str, Outcome]  # by team
    team_credentials: dict[str, Outcome]  # by team
    reachable: bool  # the cluster can be asked (its membership exists)
    accounts: list[dict[str, Any]] | None  # the project's service accounts, when IAM answers

    def outcomes(self) -> list[Outcome]:
        """Every outcome, in the order drift reports them."""
        return [
            self.project,
            self.billing,
            self.services,
            self.node_identity,
            self.network,
            self.subnet,
            self.router,
            *self.reservations,
            self.feature,
            self.policy_feature,
            *self.git,
            self.cluster,
            *self.pools,
            self.membership,
            self.config,
            self.policy,
            self.root_credentials,
            *self.team_identities.values(),
            *self.team_credentials.values(),
        ]


def _absent(*upstream: Outcome) -> bool:
    return any(outcome.created for outcome in upstream)


def observe(ctx: EnvContext, token: str, *, cold: bool = False) -> Observation | None:
    """The dry run of every step of the environment `ctx` names (a dry-run context); None when
    its project is not provably mlplat's, or (`cold`) when it does not exist yet: then every
    step is to be created and nothing more is read."""
    if not ctx.dry_run:
        raise ValueError("observe needs a dry-run context")
    try:
        proj = project.ensure_project(ctx)
    except OwnershipError:
        return None
    if cold and proj.created:
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
    root_credentials = cluster_software.git_creds_outcome(ctx, token, root, secrets.get(root))
    identities, credentials = team_drift.observe_teams(
        ctx, token, secrets, absent=enabled, services_ready=ready, accounts=accounts
    )
    return Observation(
        project=proj,
        billing=billing,
        services=services,
        node_identity=node_identity,
        network=vpc,
        subnet=subnet,
        router=router,
        reservations=tuple(reservations),
        feature=feature,
        policy_feature=policy_feature,
        git=(repo_outcome, branch, protection, manifests),
        head=head,
        cluster=gke,
        pools=tuple(pools),
        membership=membership,
        config=config,
        policy=policy,
        root_credentials=root_credentials,
        team_identities=identities,
        team_credentials=credentials,
        reachable=reachable,
        accounts=accounts,
    )
