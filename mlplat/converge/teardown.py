"""Tearing an environment down, in reverse order of the chain: its files leave Git and Config
Sync prunes what it applied (teams, Ray, policies), the membership's Config Sync spec goes, then
the membership, the cluster with its node pools, identities, network and reservations, the
branch, and (only when asked) the project. Each step observes first, so a rerun (or a resume
after a crash) skips what is gone and waits on what is still going."""

from __future__ import annotations

import functools
from typing import Any

from github.Repository import Repository

from mlplat.converge import network, walk
from mlplat.converge.bindings import wait_gone
from mlplat.converge.cluster_software import cluster_api, cluster_reachable, wait_for_root_sync
from mlplat.converge.context import EnvContext, Outcome, membership_key, report
from mlplat.converge.gitops import owned_by, publish
from mlplat.converge.offboarding import labelled_namespaces, wait_for_pruned
from mlplat.converge.walk import deletion
from mlplat.gcp import container, fleet, iam, projects
from mlplat.git import gitops_repo as repos
from mlplat.k8s import objects as k8s
from mlplat.plan import Action, Change
from mlplat.render import fleet as render_fleet
from mlplat.render import kuberay
from mlplat.render.team import TEAM_LABEL
from mlplat.specs import naming

FEATURES = (render_fleet.POLICY_CONTROLLER_FEATURE, render_fleet.CONFIG_MANAGEMENT_FEATURE)
SERVICE_ACCOUNT = "iam/service-account"
MANAGED_BY_MLPLAT = "managed by mlplat"  # in the description of every account mlplat creates


def project_alive(ctx: EnvContext) -> bool:
    """The project exists and is not being deleted (else nothing inside it is left to do)."""
    found = projects.get(ctx.target, ctx.project)
    return found is not None and found.get("state") == "ACTIVE"


def remove_manifests(ctx: EnvContext, repo: Repository | None) -> tuple[Outcome, str | None]:
    """Delete every file mlplat owns on the environment's branch, in one commit; returns the
    commit Config Sync must sync (None when nothing was committed)."""
    branch = naming.config_sync_branch(ctx.env)
    head = None if repo is None else repos.branch_head(repo, branch)
    if repo is None or head is None:
        return report(ctx, Change("git/manifests", branch, Action.NOOP), applied=False), None
    changes = repos.file_changes(repo, head, {}, owned_by(()))
    if not changes:
        return report(ctx, Change("git/manifests", branch, Action.NOOP), applied=False), None
    change = Change("git/manifests", branch, Action.DELETE)
    if ctx.dry_run:
        return report(ctx, change, applied=False), None
    message = f"mlplat: {ctx.env_name}: teardown: delete {len(changes.delete)} file(s)"
    sha, detail = publish(ctx, repo, head, {}, changes=changes, message=message, owned=owned_by(()))
    return report(ctx, change, applied=True, detail=detail), sha


def synced_namespaces(ctx: EnvContext) -> list[str]:
    """The namespaces Config Sync applied from the branch (teams', KubeRay's): observed before
    the files leave Git, to wait on their pruning after."""
    if not cluster_reachable(ctx):
        return []
    api = cluster_api(ctx)
    namespaces = labelled_namespaces(api, TEAM_LABEL)
    if k8s.get(api, "v1", "Namespace", kuberay.NAMESPACE) is not None:
        namespaces.append(kuberay.NAMESPACE)
    return namespaces


def wait_unsynced(ctx: EnvContext, commit: str | None, namespaces: list[str]) -> list[Outcome]:
    """Config Sync has synced the emptied branch and pruned `namespaces`."""
    if commit is None or not cluster_reachable(ctx):
        return wait_for_pruned(ctx, namespaces) if ctx.dry_run else []
    return [wait_for_root_sync(ctx, commit), *wait_for_pruned(ctx, namespaces)]


def remove_feature_spec(ctx: EnvContext, feature_id: str) -> Outcome:
    """The membership's spec in a fleet feature (`configmanagement`: Config Sync;
    `policycontroller`: Policy Controller), then the feature if no other membership uses it."""
    feature = fleet.get_feature(ctx.target, ctx.project, feature_id)
    specs: dict[str, Any] = (feature or {}).get("membershipSpecs", {})
    key = membership_key(ctx) if feature is not None else ""
    others = [k for k in specs if k != key]
    name = f"{ctx.project}/{feature_id}"
    if feature is None:
        return deletion(ctx, "fleet/feature", name, False, lambda: None)

    def remove() -> None:
        if key in specs:
            body: dict[str, Any] = {"membershipSpecs": {key: {}}}
            fleet.update_feature(ctx.target, ctx.project, feature_id, body, ["membershipSpecs"])
        if not others:
            fleet.delete_feature(ctx.target, ctx.project, feature_id)
            wait_gone(
                f"fleet/feature {feature_id}",
                lambda: fleet.get_feature(ctx.target, ctx.project, feature_id),
                ctx.deadlines.membership,
            )

    return deletion(ctx, "fleet/feature", name, True, remove)


def remove_membership(ctx: EnvContext) -> Outcome:
    """Unregister the cluster from the fleet and wait until the membership is gone."""
    return walk.remove_kinds(ctx, ["fleet/membership"])[0]


def remove_cluster(ctx: EnvContext) -> Outcome:
    """Delete the cluster (its node pools go with it); a delete already running is waited on."""
    path = ctx.cluster_path
    name = naming.cluster_name(ctx.platform, ctx.env)
    found = container.get_cluster(ctx.target, path)

    def remove() -> None:
        if found is not None and found.get("status") != "STOPPING":
            operation = container.running_operation(ctx.target, path)
            if operation is not None:  # one operation at a time per cluster
                container.wait(
                    ctx.target, ctx.cluster_parent, operation, what=f"gke/cluster {name}: busy",
                    deadline=ctx.deadlines.cluster,
                )  # fmt: skip
            container.delete_cluster(ctx.target, path)
        wait_gone(
            f"gke/cluster {name}",
            lambda: container.get_cluster(ctx.target, path),
            ctx.deadlines.cluster,
        )

    pools = [p.get("name") for p in (found or {}).get("nodePools", [])]
    outcome = deletion(ctx, "gke/cluster", name, found is not None, remove)
    if pools and outcome.change.action is Action.DELETE:
        return Outcome(outcome.change, outcome.applied, f"with node pools {', '.join(pools)}")
    return outcome


def remove_service_accounts(ctx: EnvContext) -> list[Outcome]:
    """Every account mlplat created in the project (node and team identities), the node
    account's project roles first."""
    node = naming.service_account_email(
        naming.node_service_account_id(ctx.platform, ctx.env), ctx.project
    )
    ours = [
        a
        for a in iam.list_service_accounts(ctx.target, ctx.project)
        if str(a.get("description", "")).endswith(MANAGED_BY_MLPLAT)
    ]
    outcomes = []
    held = iam.remove_project_member(
        ctx.target, ctx.project, f"serviceAccount:{node}", dry_run=ctx.dry_run
    )
    if held:
        outcomes.append(
            report(
                ctx,
                Change("iam/project-roles", node, Action.DELETE),
                applied=not ctx.dry_run,
                detail=", ".join(held),
            )
        )
    delete = walk.deleter(SERVICE_ACCOUNT)
    for email in sorted(str(account["email"]) for account in ours):
        outcomes.append(
            deletion(ctx, SERVICE_ACCOUNT, email, True, functools.partial(delete, ctx, email))
        )
    return outcomes


def remove_network(ctx: EnvContext) -> list[Outcome]:
    """Router (with NAT), subnet, reservations, then the VPC: the reverse of their kinds'
    dependency order."""
    return walk.remove_kinds(ctx, network.KINDS)


def remove_branch(ctx: EnvContext, repo: Repository | None) -> Outcome:
    """The environment's branch (the repository stays: other environments share it)."""
    branch = naming.config_sync_branch(ctx.env)
    exists = repo is not None and repos.branch_head(repo, branch) is not None
    return deletion(
        ctx,
        "git/branch",
        branch,
        exists,
        lambda: repos.delete_branch(repo, branch) if repo else None,
    )


def remove_project(ctx: EnvContext) -> Outcome:
    """Request the project's deletion. Google keeps it restorable for 30 days and its ID
    reserved, so the same spec cannot create it again meanwhile."""
    alive = project_alive(ctx)

    def remove() -> None:
        ctx.log(
            f"project {ctx.project}: deleting; its ID stays reserved (30 days on Google), so "
            "this environment cannot be provisioned again under the same project ID meanwhile"
        )
        projects.wait_operation(
            ctx.target, "projects", projects.delete(ctx.target, ctx.project),
            f"project {ctx.project}: delete", ctx.deadlines.project,
        )  # fmt: skip

    return deletion(ctx, "project", ctx.project, alive, remove)
