"""A team on one environment: its Google identity for Workload Identity, its credentials in
its namespace, the readiness of its RepoSync and RayCluster, and the proof of its access."""

from __future__ import annotations

import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from kubernetes.dynamic import DynamicClient

from mlplat import access
from mlplat.converge.cluster import pools_not_running
from mlplat.converge.cluster_software import cluster_address, cluster_api, ensure_git_creds
from mlplat.converge.context import EnvContext, Outcome, report, skipped_gate
from mlplat.converge.sync_gate import CONFIG_SYNC, wait_synced
from mlplat.errors import ConflictError, PermanentError
from mlplat.gcp import fleet, iam, projects
from mlplat.gcp.waiting import poll
from mlplat.k8s import objects as k8s
from mlplat.k8s import shared_lists
from mlplat.plan import Action, Change, FieldChange
from mlplat.render import fleet as render_fleet
from mlplat.render import notebook, raycluster
from mlplat.render.team import workload_service_account
from mlplat.specs import Team, naming

WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"
SCHEDULING_GRACE = 30.0  # seconds for new nodes to take a RayCluster's pods


def team(ctx: EnvContext, name: str) -> Team:
    """The named team, which must be in the context's environment."""
    found = ctx.spec.teams.get(name)
    if found is None or ctx.env_name not in found.environments:
        there = ", ".join(t.name for t in ctx.spec.teams_in(ctx.env_name)) or "none"
        raise PermanentError(
            f"team {name!r} is not in environment {ctx.env_name!r} (teams there: {there})"
        )
    return found


def require_provisioned(ctx: EnvContext) -> None:
    """Team flows act on a provisioned environment: fail early and say what to run first."""
    hint = f"run provision-environment {ctx.env_name} first"
    if projects.get(ctx.target, ctx.project) is None:
        raise PermanentError(
            f"environment {ctx.env_name} is not provisioned: project {ctx.project} not found; "
            + hint
        )
    membership = render_fleet.membership(ctx.platform, ctx.env, ctx.project).name
    if fleet.get_membership(ctx.target, ctx.project, membership) is None:
        raise PermanentError(
            f"environment {ctx.env_name} has no fleet membership {membership}; " + hint
        )


@dataclass(frozen=True)
class TeamIdentity:
    """The team's Google service account and who may act as it (its Kubernetes account)."""

    account: str
    email: str
    ksa: str

    @property
    def wanted(self) -> iam.Bindings:
        return {WORKLOAD_IDENTITY_USER: {self.ksa}}


def team_identity(ctx: EnvContext, member: Team) -> TeamIdentity:
    """The identity mlplat gives `member` on the context's environment."""
    account = naming.team_service_account_id(ctx.platform, ctx.env, member)
    ksa = (
        f"serviceAccount:{naming.workload_pool(ctx.project)}"
        f"[{member.namespace_name}/{workload_service_account(member)}]"
    )
    return TeamIdentity(account, naming.service_account_email(account, ctx.project), ksa)


def ensure_team_identity(ctx: EnvContext, member: Team, *, absent: bool = False) -> Outcome:
    """The team's Google service account, usable only by its Kubernetes service account."""
    identity = team_identity(ctx, member)
    account, email, ksa, wanted = identity.account, identity.email, identity.ksa, identity.wanted
    observed = None if absent else iam.get_service_account(ctx.target, ctx.project, email)
    if observed is None:
        change = Change("iam/service-account", email, Action.CREATE)
        if ctx.dry_run:
            return report(ctx, change, applied=False)
        with suppress(ConflictError):
            iam.create_service_account(
                ctx.target,
                ctx.project,
                account,
                f"team {member.name} ({ctx.env_name})",
                "Workload Identity of the team's pods, managed by mlplat",
            )
        iam.ensure_service_account_bindings(ctx.target, ctx.project, email, wanted)
        return report(ctx, change, applied=True)
    missing = iam.ensure_service_account_bindings(
        ctx.target, ctx.project, email, wanted, dry_run=ctx.dry_run
    )
    if not missing:
        return report(ctx, Change("iam/service-account", email, Action.NOOP), applied=False)
    fields = (FieldChange(f"iamPolicy.{WORKLOAD_IDENTITY_USER}", ksa, None),)
    return report(
        ctx, Change("iam/service-account", email, Action.UPDATE, fields), applied=not ctx.dry_run
    )


def ensure_team_credentials(ctx: EnvContext, member: Team, token: str) -> Outcome:
    """`git-creds` for the team's RepoSync, in its namespace (created by the RootSync)."""
    return ensure_git_creds(ctx, token, member.namespace_name)


def wait_for_repo_sync(ctx: EnvContext, member: Team, commit: str | None) -> Outcome:
    """Readiness gate: the team's RepoSync reports the commit mlplat pushed, without errors.
    Every team's gate on the cluster reads one shared list of RepoSyncs."""
    if ctx.dry_run or commit is None:
        name = f"{member.namespace_name}/{naming.REPOSYNC_NAME}"
        return skipped_gate(ctx, "gate/reposync", name, "skipped (dry run)")
    api = cluster_api(ctx)
    with shared_lists.looking(api, cluster_address(ctx), CONFIG_SYNC, "RepoSync") as look:
        return wait_synced(
            ctx,
            lambda: look(member.namespace_name, naming.REPOSYNC_NAME),
            "RepoSync",
            naming.REPOSYNC_NAME,
            member.namespace_name,
            commit=commit,
        )


def wait_for_ray(ctx: EnvContext, member: Team) -> Outcome:
    """Readiness gate: the team's RayCluster is provisioned with its head pod ready (or why it
    cannot be). Every team's gate on the cluster reads one shared list of RayClusters."""
    name = f"{member.namespace_name}/{raycluster.cluster_name(member)}"
    if ctx.dry_run or not member.ray.enabled:
        return skipped_gate(ctx, "gate/raycluster", name, "skipped")
    api = cluster_api(ctx)
    with shared_lists.looking(
        api, cluster_address(ctx), raycluster.API_VERSION, "RayCluster"
    ) as look:
        rc = poll(
            f"gate/raycluster {name}: ready",
            lambda: look(member.namespace_name, raycluster.cluster_name(member)),
            RayGate(ctx, name).settled,
            deadline=ctx.deadlines.sync,
        )
    status = (rc or {}).get("status", {})
    if not ray_ready(status):
        raise PermanentError(f"gate/raycluster {name}: {status.get('reason', 'failed')}")
    return ray_proven(ctx, member)


def ray_proven(ctx: EnvContext, member: Team) -> Outcome:
    """The outcome of the Ray gate of a team whose RayCluster is ready."""
    return report(
        ctx,
        Change(
            "gate/raycluster",
            f"{member.namespace_name}/{raycluster.cluster_name(member)}",
            Action.NOOP,
        ),
        applied=False,
        detail=f"ready at {raycluster.endpoint(member)}",
    )


READY_CONDITIONS = ("RayClusterProvisioned", "HeadPodReady")


def ray_ready(status: dict[str, Any]) -> bool:
    """KubeRay's readiness signal: RayClusterProvisioned and HeadPodReady True. `state: ready`
    alone is not: KubeRay keeps it once set, while the head pod is replaced or not Ready yet
    (kuberay#2188)."""
    found = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    return all(found.get(kind) == "True" for kind in READY_CONDITIONS)


class RayGate:
    """Whether a RayCluster is ready or its failure final. A RayCluster fails while no node can
    take its pods: while declared node pools are not running yet (a new cluster's pools wait for its
    own upgrade), that is not final. Once they run, the cluster has `grace` seconds
    to schedule its pods before a failure counts; with every pool running from the start, a
    failure counts at once."""

    def __init__(self, ctx: EnvContext, name: str, grace: float = SCHEDULING_GRACE) -> None:
        self.ctx, self.name, self.grace = ctx, name, grace
        self.waited_for: list[str] = []
        self.pools_up_at: float | None = None

    def settled(self, found: dict[str, Any] | None) -> bool:
        status = (found or {}).get("status", {})
        if status.get("state") != "failed":
            return ray_ready(status)
        if self.pools_up_at is not None:
            return time.monotonic() - self.pools_up_at >= self.grace
        missing = pools_not_running(self.ctx)
        if missing:
            if missing != self.waited_for:
                self.ctx.log(
                    f"gate/raycluster {self.name}: no node for its pods yet; waiting for node "
                    f"pools {', '.join(missing)}"
                )
            self.waited_for = missing
            return False
        if not self.waited_for:
            return True
        self.pools_up_at = time.monotonic()
        return False


def wait_for_notebook(ctx: EnvContext, member: Team) -> Outcome:
    """Readiness gate: the team's notebook Deployment has its replica available."""
    name = f"{member.namespace_name}/{notebook.name(member)}"
    if ctx.dry_run or not member.notebook.enabled:
        return skipped_gate(ctx, "gate/notebook", name, "skipped")
    api = cluster_api(ctx)
    poll(
        f"gate/notebook {name}: available",
        lambda: k8s.get(api, "apps/v1", "Deployment", notebook.name(member), member.namespace_name),
        notebook_available,
        deadline=ctx.deadlines.sync,
    )
    return notebook_proven(ctx, member)


def notebook_available(found: dict[str, Any] | None) -> bool:
    """The notebook Deployment has its replica available."""
    return int((found or {}).get("status", {}).get("availableReplicas") or 0) >= 1


def notebook_proven(ctx: EnvContext, member: Team) -> Outcome:
    """The outcome of the notebook gate of a team whose notebook is available."""
    return report(
        ctx,
        Change("gate/notebook", f"{member.namespace_name}/{notebook.name(member)}", Action.NOOP),
        applied=False,
        detail=f"ready: kubectl port-forward -n {member.namespace_name} "
        f"svc/{notebook.name(member)} {notebook.PORT}",
    )


@dataclass(frozen=True)
class AccessResult:
    checked: int
    failures: tuple[str, ...]


def verify_access(ctx: EnvContext, member: Team) -> AccessResult:
    """SubjectAccessReviews for every member: allowed at home, denied elsewhere."""
    others = [t for t in ctx.spec.teams_in(ctx.env_name) if t.name != member.name]
    checks = list(access.expectations(member, others))
    if ctx.dry_run:
        return AccessResult(0, ())
    api = cluster_api(ctx)
    failures = tuple(c.describe() for c in checks if _review(api, c) != c.allowed)
    return AccessResult(len(checks), failures)


def _review(api: DynamicClient, check: access.Expectation) -> bool:
    attributes: dict[str, Any] = {"verb": check.verb, "group": check.group}
    resource, _, subresource = check.resource.partition("/")
    attributes["resource"] = resource
    if subresource:
        attributes["subresource"] = subresource
    if check.namespace:
        attributes["namespace"] = check.namespace
    spec: dict[str, Any] = {
        "resourceAttributes": attributes,
        "groups": [check.subject] if check.is_group else [],
    }
    if not check.is_group:
        spec["user"] = check.subject
    else:
        spec["user"] = "mlplat-access-check"
    review = k8s.create(
        api, {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
    )
    return bool(review.get("status", {}).get("allowed"))
