"""Unmanaged children: objects inside what mlplat owns that no spec declares.

- node pools in the environment's cluster (GKE's auto-provisioned pools excepted);
- subnetworks of the environment's VPC, in any region;
- service accounts of the environment's project (Google's default accounts, whose addresses are
  not the project's `iam.gserviceaccount.com`, excepted);
- project IAM members the spec does not grant (Google's service agents and default accounts,
  which Google adds itself, and the caller that created the project, excepted);
- namespaces carrying a team's label that no team of the environment has;
- RoleBindings in a team's namespace that Git does not hold (neither mlplat's branch nor the
  team's own directory, which Config Sync marks as it applies it); Config Sync's own (its
  namespace reconciler's: labelled `configmanagement.gke.io/system`, named
  `configsync.gke.io:…`) and those a controller owns are not counted.

They are reported as "unmanaged" and deleted only when asked (`prune`). Each is read with one
call per kind for the whole environment. Node pools, subnetworks and service accounts are
listed, and every kind is deleted, through the kinds' bindings (`registry`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlplat.converge import bindings, walk
from mlplat.converge.cluster_software import cluster_api
from mlplat.converge.context import EnvContext
from mlplat.converge.findings import KEPT_ROLES, PROJECT_MEMBER, DriftClass, Finding
from mlplat.converge.identity import NODE_ROLES
from mlplat.converge.ray_addon import managed_by_config_sync
from mlplat.errors import MlplatError
from mlplat.gcp import iam, projects
from mlplat.k8s import objects as k8s
from mlplat.render.team import TEAM_LABEL
from mlplat.specs import naming

NODE_POOL = "gke/node-pool"
SUBNETWORK = "compute/subnetwork"
SERVICE_ACCOUNT = "iam/service-account"
NAMESPACE = "k8s/Namespace"
ROLE_BINDING = "k8s/RoleBinding"
CONFIG_SYNC_SYSTEM = "configmanagement.gke.io/system"


def _finding(ctx: EnvContext, kind: str, name: str, field: str = "", actual: str = "") -> Finding:
    return Finding(ctx.env_name, f"{kind} {name}", DriftClass.UNMANAGED, field, "", actual)


def google_findings(ctx: EnvContext, accounts: Iterable[dict[str, Any]]) -> list[Finding]:
    """Unmanaged children on Google's side of an environment whose project is mlplat's and
    whose APIs are enabled; `accounts`: the project's service accounts, as listed."""
    return [
        *node_pools(ctx),
        *subnetworks(ctx),
        *service_accounts(ctx, accounts),
        *project_members(ctx),
    ]


def node_pools(ctx: EnvContext) -> list[Finding]:
    return walk.unmanaged(ctx, NODE_POOL)


def subnetworks(ctx: EnvContext) -> list[Finding]:
    return walk.unmanaged(ctx, SUBNETWORK)


def service_accounts(ctx: EnvContext, accounts: Iterable[dict[str, Any]]) -> list[Finding]:
    """`accounts`: the project's, as listed (the teams' observation shares the listing);
    Google's default accounts, outside the project's own domain, are not counted."""
    own_domain = f"@{ctx.project}.iam.gserviceaccount.com"
    members = [
        (email, account)
        for account in accounts
        if (email := str(account.get("email", ""))).endswith(own_domain)
    ]
    return walk.unmanaged(ctx, SERVICE_ACCOUNT, members)


def google_managed(member: str, project: str, number: str) -> bool:
    """Whether a project IAM member is one Google adds itself: a service agent
    (`service-N@…`, `N@cloudservices…`), or a default account (`N-compute@developer…`,
    `N@cloudbuild…`, `P@appspot…`), N being the project's number and P its ID."""
    kind, _, email = member.partition(":")
    if kind != "serviceAccount" or "@" not in email:
        return False
    local, _, domain = email.partition("@")
    if domain == "appspot.gserviceaccount.com":
        return local == project
    return bool(number) and local in (f"service-{number}", number, f"{number}-compute")


def granted(ctx: EnvContext) -> dict[str, set[str]]:
    """Role → the members the spec grants on the environment's project."""
    node = naming.service_account_email(
        naming.node_service_account_id(ctx.platform, ctx.env), ctx.project
    )
    return {role: {f"serviceAccount:{node}"} for role in NODE_ROLES}


def undeclared_members(ctx: EnvContext) -> dict[str, set[str]]:
    """Role → the members of the project's policy that no spec grants and Google did not add
    itself (the caller's owner role, from creating the project, is not counted either)."""
    policy = iam.project_policy(ctx.target, ctx.project)
    number = projects.number(ctx.target, ctx.project) or ""
    wanted = granted(ctx)
    caller = iam.caller(ctx.target)
    found: dict[str, set[str]] = {}
    for binding in policy.get("bindings", []):
        role = str(binding["role"])
        for member in binding.get("members", []):
            if member in wanted.get(role, set()) or google_managed(member, ctx.project, number):
                continue
            if role == "roles/owner" and member == caller:
                continue
            found.setdefault(role, set()).add(member)
    return found


def project_members(ctx: EnvContext) -> list[Finding]:
    return [
        _finding(ctx, PROJECT_MEMBER, member, role, "granted")
        for role, members in sorted(undeclared_members(ctx).items())
        for member in sorted(members)
    ]


def cluster_findings(ctx: EnvContext, desired: list[dict[str, Any]]) -> list[Finding]:
    """Unmanaged namespaces and RoleBindings of the (reachable) cluster; `desired`: every
    object of the environment's branch as mlplat renders it."""
    api = cluster_api(ctx)
    namespaces = {m.namespace_name for m in ctx.spec.teams_in(ctx.env_name)}
    committed = {
        (m["metadata"].get("namespace"), m["metadata"]["name"])
        for m in desired
        if m["kind"] == "RoleBinding"
    }
    found = [
        _finding(ctx, NAMESPACE, name, TEAM_LABEL, ns["metadata"]["labels"][TEAM_LABEL])
        for ns in k8s.list_(api, "v1", "Namespace", label_selector=TEAM_LABEL)
        if (name := ns["metadata"]["name"]) not in namespaces and not managed_by_config_sync(ns)
    ]
    for binding in k8s.list_(api, bindings.RBAC, "RoleBinding"):
        meta = binding["metadata"]
        key = (meta.get("namespace"), meta["name"])
        if (
            key[0] in namespaces
            and key not in committed
            and not managed_by_config_sync(binding)
            and not _config_sync_system(binding)
            and not meta.get("ownerReferences")
        ):
            role = binding.get("roleRef", {})
            found.append(
                _finding(
                    ctx,
                    ROLE_BINDING,
                    f"{key[0]}/{key[1]}",
                    "roleRef",
                    actual=f"{role.get('kind')} {role.get('name')}",
                )
            )
    return found


def _config_sync_system(obj: dict[str, Any]) -> bool:
    """Config Sync's own objects (its namespace reconcilers' RoleBindings): labelled as system,
    or under its reserved `configsync.gke.io:` name prefix."""
    meta = obj["metadata"]
    return (meta.get("labels") or {}).get(CONFIG_SYNC_SYSTEM) == "true" or str(
        meta.get("name", "")
    ).startswith("configsync.gke.io:")


def prune(ctx: EnvContext, findings: Iterable[Finding]) -> int:
    """Delete every unmanaged object among `findings` (a node pool's or subnetwork's
    operation waited on); returns how many."""
    unmanaged = [f for f in findings if f.drift is DriftClass.UNMANAGED]
    members: dict[str, set[str]] = {}
    done = 0
    for finding in sorted(unmanaged, key=lambda f: f.resource):
        kind, _, name = finding.resource.partition(" ")
        if kind == PROJECT_MEMBER:
            if finding.field in KEPT_ROLES:
                ctx.log(f"{finding.resource}: {finding.field} kept (prune never removes it)")
                continue
            members.setdefault(finding.field, set()).add(name)
            continue
        _delete(ctx, kind, name)
        ctx.log(f"{finding.resource}: unmanaged, deleted (prune)")
        done += 1
    if members:
        removed = iam.remove_project_bindings(ctx.target, ctx.project, members)
        for role, gone in sorted(removed.items()):
            for member in sorted(gone):
                ctx.log(f"{PROJECT_MEMBER} {member}: {role} removed (prune)")
                done += 1
    return done


def _delete(ctx: EnvContext, kind: str, name: str) -> None:
    try:
        delete = walk.deleter(kind)
    except MlplatError as exc:
        raise ValueError(f"cannot prune {kind} {name}") from exc
    delete(ctx, name)
