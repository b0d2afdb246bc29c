"""A team leaving one environment: its files leave Git (done by the gitops step once the spec no
longer lists the team there), Config Sync prunes its namespace with everything in it, and its
Google service account is deleted. Found by the team's name, so nothing depends on a spec file
that may already be gone."""

from __future__ import annotations

from kubernetes.dynamic import DynamicClient

from mlplat.converge.cluster_software import cluster_api, cluster_reachable
from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import PermanentError
from mlplat.gcp import iam
from mlplat.gcp.waiting import poll
from mlplat.k8s import objects as k8s
from mlplat.plan import Action, Change
from mlplat.render.team import TEAM_LABEL
from mlplat.specs import naming


def require_left_spec(ctx: EnvContext, team: str, spec_file: str) -> None:
    """Offboarding follows the spec: a team still listed for the environment would be
    onboarded again by the next run, so refuse and say which line to change."""
    if any(member.name == team for member in ctx.spec.teams_in(ctx.env_name)):
        raise PermanentError(
            f"{spec_file}: team {team!r} still lists environment {ctx.env_name!r} in "
            f"`environments`; remove it there (or delete the file) first, or the next run "
            "would onboard the team again"
        )


def labelled_namespaces(api: DynamicClient, selector: str) -> list[str]:
    """Names of the namespaces matching a label selector."""
    found = k8s.list_(api, "v1", "Namespace", label_selector=selector)
    return sorted(str(ns["metadata"]["name"]) for ns in found)


def team_namespaces(ctx: EnvContext, team: str) -> list[str]:
    """The team's namespaces in the environment's cluster ([] without a cluster)."""
    if not cluster_reachable(ctx):
        return []
    return labelled_namespaces(cluster_api(ctx), f"{TEAM_LABEL}={team}")


def wait_for_pruned(ctx: EnvContext, namespaces: list[str]) -> list[Outcome]:
    """Each namespace is deleted by Config Sync (its files left Git) and gone with its
    contents: RBAC, quota, RepoSync, Secrets, workloads."""
    if ctx.dry_run:
        changes = [Change("k8s/namespace", ns, Action.DELETE) for ns in namespaces]
        return [report(ctx, change, applied=False) for change in changes]
    if not namespaces:
        return []
    api = cluster_api(ctx)
    outcomes = []
    for namespace in namespaces:
        change = Change("k8s/namespace", namespace, Action.DELETE)
        poll(
            f"k8s/namespace {namespace}: pruned",
            lambda namespace=namespace: k8s.get(api, "v1", "Namespace", namespace),  # type: ignore[misc]
            lambda found: found is None,
            deadline=ctx.deadlines.sync,
        )
        outcomes.append(
            report(ctx, change, applied=True, detail="pruned by Config Sync with its contents")
        )
    return outcomes


def remove_team_identity(ctx: EnvContext, team: str) -> Outcome:
    """The team's Google service account (and with it its Workload Identity binding)."""
    email = naming.service_account_email(
        naming.team_service_account_id(ctx.platform, ctx.env, team), ctx.project
    )
    if iam.get_service_account(ctx.target, ctx.project, email) is None:
        return report(ctx, Change("iam/service-account", email, Action.NOOP), applied=False)
    change = Change("iam/service-account", email, Action.DELETE)
    if not ctx.dry_run:
        iam.delete_service_account(ctx.target, ctx.project, email)
    return report(ctx, change, applied=not ctx.dry_run)
