"""Tasks: an environment's teardown, one per layer, in reverse order of provisioning."""

from __future__ import annotations

from github.Repository import Repository
from prefect import task
from prefect.cache_policies import NO_CACHE

from mlplat.converge import teardown
from mlplat.converge.context import EnvContext, Outcome
from mlplat.git.gitops_repo import connect, get_repository
from tasks._runtime import with_run_logger
from tasks._secrets import github_token


def _repo(ctx: EnvContext) -> Repository | None:
    gitops = ctx.platform.gitops
    gh = connect(ctx.target, github_token(gitops.token_secret))
    return get_repository(gh, gitops.owner, gitops.repository)


@task(name="remove-gitops-content", task_run_name="remove-gitops-content[{ctx.env_name}]",
      cache_policy=NO_CACHE)  # fmt: skip
def remove_gitops_content(ctx: EnvContext) -> list[Outcome]:
    """The branch's files leave Git; Config Sync prunes the teams, Ray and policies."""
    ctx = with_run_logger(ctx)
    namespaces = teardown.synced_namespaces(ctx)
    manifests, commit = teardown.remove_manifests(ctx, _repo(ctx))
    return [manifests, *teardown.wait_unsynced(ctx, commit, namespaces)]


@task(name="remove-fleet", task_run_name="remove-fleet[{ctx.env_name}]", cache_policy=NO_CACHE)
def remove_fleet(ctx: EnvContext) -> list[Outcome]:
    """Policy Controller and Config Sync specs of the membership, then the membership."""
    ctx = with_run_logger(ctx)
    specs = [teardown.remove_feature_spec(ctx, feature) for feature in teardown.FEATURES]
    return [*specs, teardown.remove_membership(ctx)]


@task(name="remove-cluster", task_run_name="remove-cluster[{ctx.env_name}]", cache_policy=NO_CACHE)
def remove_cluster(ctx: EnvContext) -> Outcome:
    """The cluster with its node pools."""
    return teardown.remove_cluster(with_run_logger(ctx))


@task(name="remove-identities", task_run_name="remove-identities[{ctx.env_name}]",
      cache_policy=NO_CACHE)  # fmt: skip
def remove_identities(ctx: EnvContext) -> list[Outcome]:
    """Node and team service accounts (the node account's project roles first)."""
    return teardown.remove_service_accounts(with_run_logger(ctx))


@task(name="remove-network", task_run_name="remove-network[{ctx.env_name}]", cache_policy=NO_CACHE)
def remove_network(ctx: EnvContext) -> list[Outcome]:
    """Router with NAT, subnet, reservations, VPC."""
    return teardown.remove_network(with_run_logger(ctx))


@task(name="remove-branch", task_run_name="remove-branch[{ctx.env_name}]", cache_policy=NO_CACHE)
def remove_branch(ctx: EnvContext) -> Outcome:
    """The environment's GitOps branch."""
    ctx = with_run_logger(ctx)
    return teardown.remove_branch(ctx, _repo(ctx))


@task(name="remove-project", task_run_name="remove-project[{ctx.env_name}]", cache_policy=NO_CACHE)
def remove_project(ctx: EnvContext) -> Outcome:
    """The project (its ID stays reserved for 30 days)."""
    return teardown.remove_project(with_run_logger(ctx))
