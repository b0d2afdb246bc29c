"""What a provisioning run need not do: the steps of one environment whose batch observation
(`observation`) plans nothing and whose readiness is proven by one more read of its status,
each with the outcome its step would have reported. The steps not settled here run as today,
each observing again before it acts (so a crashed run's operations in flight are found).

A step that plans nothing returns at once, unless it also waits on a readiness gate even when
converged: the cluster (RUNNING), its node pools (RUNNING), the fleet membership (READY), Policy
Controller (ACTIVE), root-sync (synced at the branch head), KubeRay's CRDs (served by GKE's
add-on), and each team's RepoSync (synced at the head), RayCluster (ready) and notebook
(available). Those gates are proven here without waiting, in batch (one list per kind and
cluster); a gate that does not hold leaves its step to a task, which waits on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlplat.converge import cluster_software, fleet, teams
from mlplat.converge.context import EnvContext, Outcome, membership_key
from mlplat.converge.observation import Observation
from mlplat.converge.ray_addon import served_by_addon
from mlplat.converge.sync_gate import CONFIG_SYNC, settled, wait_synced
from mlplat.gcp import container
from mlplat.gcp import fleet as gcp_fleet
from mlplat.k8s import objects as k8s
from mlplat.plan import Action
from mlplat.render import cluster as render_cluster
from mlplat.render import fleet as render_fleet
from mlplat.render import kuberay, notebook, raycluster
from mlplat.render.desired import MANAGED_BY_VALUE, PART_OF_LABEL
from mlplat.specs import Team, naming

PROJECT = "project"
BILLING = "billing"
SERVICES = "services"
NODE_IDENTITY = "node-identity"
NETWORK = "network"
SUBNET = "subnet"
ROUTER = "router"
RESERVATIONS = "reservations"
GITOPS = "gitops"
CLUSTER = "cluster"
MEMBERSHIP = "membership"
CONFIG_MANAGEMENT = "config-management"
POLICY_CONTROLLER = "policy-controller"
CLUSTER_SOFTWARE = "cluster-software"


def feature(feature_id: str) -> str:
    return f"feature/{feature_id}"


def node_pool(name: str) -> str:
    return f"node-pool/{name}"


def team_identity(team: str) -> str:
    return f"team-identity/{team}"


def team_space(team: str) -> str:
    return f"team-space/{team}"


@dataclass(frozen=True)
class Settled:
    """Step key → the outcomes of a step a run need not run; the branch head they assume."""

    steps: dict[str, tuple[Outcome, ...]] = field(default_factory=dict)
    head: str | None = None
    observed: int = 0  # resources the observation compared


def _noop(*outcomes: Outcome) -> bool:
    return all(outcome.change.action is Action.NOOP for outcome in outcomes)


def settle(ctx: EnvContext, seen: Observation) -> Settled:
    """The settled steps of the environment `ctx` (a live context) given its observation.
    Steps after the project's APIs are settled only when the project, its billing and its APIs
    are: an API being enabled changes what the rest reads."""
    steps: dict[str, tuple[Outcome, ...]] = {}

    def keep(key: str, *outcomes: Outcome) -> bool:
        if _noop(*outcomes):
            steps[key] = outcomes
        return key in steps

    observed = len(seen.outcomes())
    base = [keep(PROJECT, seen.project), keep(BILLING, seen.billing), keep(SERVICES, seen.services)]
    if not all(base):
        return Settled(steps, seen.head, observed)
    keep(NODE_IDENTITY, seen.node_identity)
    keep(NETWORK, seen.network)
    keep(SUBNET, seen.subnet)
    keep(ROUTER, seen.router)
    keep(RESERVATIONS, *seen.reservations)
    keep(feature(fleet.CONFIG_MANAGEMENT), seen.feature)
    keep(feature(fleet.POLICY_CONTROLLER), seen.policy_feature)
    git = keep(GITOPS, *seen.git) and seen.head is not None
    keep(CONFIG_MANAGEMENT, seen.config)
    _settle_cluster(ctx, seen, steps)
    membership = _noop(seen.membership) and _membership_ready(ctx)
    if membership:
        steps[MEMBERSHIP] = (seen.membership,)
    if _noop(seen.policy) and _policy_active(ctx):
        detail = "ACTIVE" if ctx.env.policy_controller.enabled else ""
        steps[POLICY_CONTROLLER] = (Outcome(seen.policy.change, detail=detail),)
    if not (git and membership and seen.reachable and seen.head):
        return Settled(steps, seen.head, observed)
    software = _cluster_software(ctx, seen, seen.head)
    if software is not None:
        steps[CLUSTER_SOFTWARE] = software
        steps.update(_team_spaces(ctx, seen, seen.head))
    for name, outcome in seen.team_identities.items():
        keep(team_identity(name), outcome)
    return Settled(steps, seen.head, observed)


def _settle_cluster(ctx: EnvContext, seen: Observation, steps: dict[str, Any]) -> None:
    """The cluster and each node pool, when planned as no-ops and RUNNING (one read)."""
    if seen.cluster.change.action is Action.CREATE:
        return
    found = container.get_cluster(ctx.target, ctx.cluster_path) or {}
    if _noop(seen.cluster) and found.get("status") == "RUNNING":
        steps[CLUSTER] = (seen.cluster,)
    running = {p.get("name") for p in found.get("nodePools", []) if p.get("status") == "RUNNING"}
    pools = render_cluster.every_pool(ctx.platform, ctx.env, ctx.project)
    for pool, outcome in zip(pools, seen.pools, strict=True):
        if _noop(outcome) and pool.name in running:
            steps[node_pool(pool.name)] = (outcome,)


def _membership_ready(ctx: EnvContext) -> bool:
    name = render_fleet.membership(ctx.platform, ctx.env, ctx.project).name
    found = gcp_fleet.get_membership(ctx.target, ctx.project, name) or {}
    return bool(found.get("state", {}).get("code") == "READY")


def _policy_active(ctx: EnvContext) -> bool:
    """Policy Controller is ACTIVE for the membership (or the spec turns it off)."""
    if not ctx.env.policy_controller.enabled:
        return True
    found = gcp_fleet.get_feature(ctx.target, ctx.project, fleet.POLICY_CONTROLLER) or {}
    state = (found.get("membershipStates", {}).get(membership_key(ctx)) or {}).get(
        "policycontroller", {}
    )
    return bool(state.get("state") == "ACTIVE")


def _cluster_software(ctx: EnvContext, seen: Observation, head: str) -> tuple[Outcome, ...] | None:
    """git-creds of the root, root-sync at `head` and the Ray CRDs, when all hold."""
    if not _noop(seen.root_credentials):
        return None
    api = cluster_software.cluster_api(ctx)
    namespace, name = naming.CONFIG_MANAGEMENT_NAMESPACE, naming.ROOTSYNC_NAME
    root = k8s.get(api, CONFIG_SYNC, "RootSync", name, namespace)
    if not settled(root, head):
        return None
    synced = wait_synced(ctx, lambda: root, "RootSync", name, namespace, commit=head)
    if not ctx.env.cluster.ray_operator.enabled:
        crds = cluster_software.wait_for_ray_crds(ctx)  # skipped: nothing to read
    else:
        kind = "CustomResourceDefinition"
        found = [k8s.get(api, "apiextensions.k8s.io/v1", kind, n) for n in kuberay.crd_names()]
        if not all(served_by_addon(crd) for crd in found):
            return None
        crds = cluster_software.crds_proven(ctx)
    return seen.root_credentials, synced, crds


def _team_spaces(ctx: EnvContext, seen: Observation, head: str) -> dict[str, tuple[Outcome, ...]]:
    """Each team's credentials and gates (RepoSync at `head`, RayCluster, notebook), for the
    teams whose credentials plan nothing and whose gates hold: one list per kind."""
    members = ctx.spec.teams_in(ctx.env_name)
    if not members:
        return {}
    api = cluster_software.cluster_api(ctx)
    syncs = _by_place(k8s.list_(api, CONFIG_SYNC, "RepoSync"))
    rays = (
        _by_place(k8s.list_(api, raycluster.API_VERSION, "RayCluster"))
        if any(m.ray.enabled for m in members)
        else {}
    )
    selector = f"{PART_OF_LABEL}={MANAGED_BY_VALUE}"
    notebooks = (
        _by_place(k8s.list_(api, "apps/v1", "Deployment", label_selector=selector))
        if any(m.notebook.enabled for m in members)
        else {}
    )
    spaces: dict[str, tuple[Outcome, ...]] = {}
    for member in members:
        credentials = seen.team_credentials[member.name]
        sync = syncs.get((member.namespace_name, naming.REPOSYNC_NAME))
        if not (_noop(credentials) and settled(sync, head)):
            continue
        ray = _ray(ctx, member, rays)
        book = _notebook(ctx, member, notebooks)
        if ray is None or book is None:
            continue
        gate = _synced(ctx, sync, member.namespace_name, head)
        spaces[team_space(member.name)] = (credentials, gate, ray, book)
    return spaces


def _synced(ctx: EnvContext, sync: dict[str, Any] | None, namespace: str, head: str) -> Outcome:
    """The RepoSync gate's outcome, for a RepoSync read synced at `head`."""
    return wait_synced(ctx, lambda: sync, "RepoSync", naming.REPOSYNC_NAME, namespace, commit=head)


def _by_place(found: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(str(o["metadata"].get("namespace")), str(o["metadata"].get("name"))): o for o in found}


def _ray(ctx: EnvContext, member: Team, found: dict[tuple[str, str], Any]) -> Outcome | None:
    if not member.ray.enabled:
        return teams.wait_for_ray(ctx, member)  # skipped: nothing to read
    rc = found.get((member.namespace_name, raycluster.cluster_name(member)))
    if not teams.ray_ready((rc or {}).get("status", {})):
        return None
    return teams.ray_proven(ctx, member)


def _notebook(ctx: EnvContext, member: Team, found: dict[tuple[str, str], Any]) -> Outcome | None:
    if not member.notebook.enabled:
        return teams.wait_for_notebook(ctx, member)  # skipped: nothing to read
    if not teams.notebook_available(found.get((member.namespace_name, notebook.name(member)))):
        return None
    return teams.notebook_proven(ctx, member)
