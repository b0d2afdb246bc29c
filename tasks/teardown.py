"""Tasks: an environment's teardown, one per layer, in reverse order of provisioning."""

from __future__ import annotations

from github.Repository import Repository

from mlplat.converge import teardown
from mlplat.converge.context import EnvContext, Outcome
from mlplat.git.gitops_repo import connect, get_repository
from tasks._runtime import env_task
from tasks._secrets import github_token


def _repo(ctx: EnvContext) -> Repository | None:
    gitops = ctx.platform.gitops
    gh = connect(ctx.target, github_token(gitops.token_secret))
    return get_repository(gh, gitops.owner, gitops.repository)


@env_task("remove-gitops-content")
def remove_gitops_content(ctx: EnvContext) -> list[Outcome]:
    """The branch's files leave Git; Config Sync prunes the teams, Ray and policies."""
    namespaces = teardown.synced_namespaces(ctx)
    manifests, commit = teardown.remove_manifests(ctx, _repo(ctx))
    return [manifests, *teardown.wait_unsynced(ctx, commit, namespaces)]


@env_task("remove-fleet")
def remove_fleet(ctx: EnvContext) -> list[Outcome]:
    """Policy Controller and Config Sync specs of the membership, then the membership."""
    specs = [teardown.remove_feature_spec(ctx, feature) for feature in teardown.FEATURES]
    return [*specs, teardown.remove_membership(ctx)]


@env_task("remove-cluster")
def remove_cluster(ctx: EnvContext) -> Outcome:
    """The cluster with its node pools."""
    return teardown.remove_cluster(ctx)


@env_task("remove-identities")
def remove_identities(ctx: EnvContext) -> list[Outcome]:
    """Node and team service accounts (the node account's project roles first)."""
    return teardown.remove_service_accounts(ctx)


@env_task("remove-network")
def remove_network(ctx: EnvContext) -> list[Outcome]:
    """Router with NAT, subnet, reservations, VPC."""
    return teardown.remove_network(ctx)


@env_task("remove-branch")
def remove_branch(ctx: EnvContext) -> Outcome:
    """The environment's GitOps branch."""
    return teardown.remove_branch(ctx, _repo(ctx))


@env_task("remove-project")
def remove_project(ctx: EnvContext) -> Outcome:
    """The project (its ID stays reserved for 30 days)."""
    return teardown.remove_project(ctx)
