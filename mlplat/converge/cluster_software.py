"""What mlplat puts into a cluster directly (only the `git-creds` Secret: credentials never go
to Git) and the readiness gates of the GitOps chain: Config Sync installed, RootSync synced at
the commit mlplat pushed, KubeRay's CRDs established by GKE's Ray operator add-on."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from kubernetes.dynamic import DynamicClient

from mlplat.converge.context import EnvContext, Outcome, membership_key, report, skipped_gate
from mlplat.converge.ray_addon import managed_by_config_sync, served_by_addon
from mlplat.converge.sync_gate import CONFIG_SYNC, wait_synced
from mlplat.errors import MalformedResponseError, MlplatError, TruncatedResponseError
from mlplat.gcp import fleet, projects
from mlplat.gcp.waiting import poll
from mlplat.k8s import connection
from mlplat.k8s import objects as k8s
from mlplat.plan import Action, Change, FieldChange
from mlplat.render import fleet as render_fleet
from mlplat.render import kuberay
from mlplat.render.desired import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from mlplat.specs import naming

GIT_USERNAME = "mlplat"
REDACTED = "(secret)"


def _membership(ctx: EnvContext) -> tuple[str, str]:
    """The project number and membership ID the Connect Gateway reaches the cluster by."""
    return membership_key(ctx).split("/")[1], naming.membership_id(ctx.platform, ctx.env)


def cluster_api(ctx: EnvContext) -> DynamicClient:
    """A client for the environment's cluster through its membership's Connect Gateway."""
    number, membership = _membership(ctx)
    # Building the client runs API discovery, which can meet the same transient errors as calls.
    return k8s.guarded(
        f"k8s/discovery {membership}",
        lambda: connection.dynamic(ctx.target, number, membership),
    )


def cluster_address(ctx: EnvContext) -> str:
    """Where the environment's cluster is reached (its Connect Gateway URL): a key for it."""
    return connection.gateway_url(ctx.target, *_membership(ctx))


def cluster_reachable(ctx: EnvContext, *, once: bool = False) -> bool:
    """The environment's cluster can be asked: its project is active and its membership (the
    Connect Gateway's way in) exists. `once`: the membership is asked once, without waiting
    out an API still being enabled (an error then)."""
    project = projects.get(ctx.target, ctx.project)
    if project is None or project.get("state") != "ACTIVE":
        return False
    membership = render_fleet.membership(ctx.platform, ctx.env, ctx.project).name
    return fleet.get_membership(ctx.target, ctx.project, membership, once=once) is not None


def git_creds(namespace: str, token: str) -> dict[str, Any]:
    """The Secret Config Sync reads (`auth: token`): keys `username` and `token`."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": naming.GIT_CREDS_SECRET,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
        },
        "data": {
            "username": base64.b64encode(GIT_USERNAME.encode()).decode(),
            "token": base64.b64encode(token.encode()).decode(),
        },
    }


def ensure_git_creds(ctx: EnvContext, token: str, namespace: str) -> Outcome:
    """Write `git-creds` into `namespace` once it exists (Config Sync creates its namespace);
    values are compared in memory and never logged or reported."""
    name = f"{namespace}/{naming.GIT_CREDS_SECRET}"
    desired = git_creds(namespace, token)
    if ctx.dry_run:
        try:
            observed = k8s.get(cluster_api(ctx), "v1", "Secret", naming.GIT_CREDS_SECRET, namespace)
        except (MalformedResponseError, TruncatedResponseError):
            raise  # an answer that cannot be read says nothing about whether it exists
        except MlplatError:  # no cluster (or no membership) yet: it will be created
            observed = None
        return _secret_report(ctx, name, desired, observed, apply=None)
    api = cluster_api(ctx)
    observed = k8s.get(api, "v1", "Secret", naming.GIT_CREDS_SECRET, namespace)
    if observed is None:  # a Secret found says its namespace exists: no need to ask
        poll(
            f"k8s/namespace {namespace}: exists",
            lambda: k8s.get(api, "v1", "Namespace", namespace),
            lambda found: found is not None,
            deadline=ctx.deadlines.sync,
        )
    return _secret_report(ctx, name, desired, observed, apply=lambda: k8s.apply(api, desired))


def git_creds_outcome(
    ctx: EnvContext, token: str, namespace: str, observed: dict[str, Any] | None
) -> Outcome:
    """The dry-run outcome of `git-creds` in `namespace`, given the Secret read there."""
    name = f"{namespace}/{naming.GIT_CREDS_SECRET}"
    return _secret_report(ctx, name, git_creds(namespace, token), observed, apply=None)


def _secret_report(
    ctx: EnvContext,
    name: str,
    desired: dict[str, Any],
    observed: dict[str, Any] | None,
    apply: Callable[[], object] | None,
) -> Outcome:
    if observed is not None and observed.get("data") == desired["data"]:
        return report(ctx, Change("k8s/secret", name, Action.NOOP), applied=False)
    action = Action.CREATE if observed is None else Action.UPDATE
    fields = () if observed is None else (FieldChange("data", REDACTED, REDACTED),)
    if apply is not None:
        apply()
    return report(ctx, Change("k8s/secret", name, action, fields), applied=apply is not None)


def wait_for_root_sync(ctx: EnvContext, commit: str | None) -> Outcome:
    """Readiness gate: `root-sync` reports the commit mlplat pushed, without errors."""
    if ctx.dry_run or commit is None:
        name = f"{naming.CONFIG_MANAGEMENT_NAMESPACE}/{naming.ROOTSYNC_NAME}"
        return skipped_gate(ctx, "gate/rootsync", name, "skipped (dry run)")
    api = cluster_api(ctx)
    return wait_synced(
        ctx,
        lambda: k8s.get(
            api, CONFIG_SYNC, "RootSync", naming.ROOTSYNC_NAME, naming.CONFIG_MANAGEMENT_NAMESPACE
        ),
        "RootSync",
        naming.ROOTSYNC_NAME,
        naming.CONFIG_MANAGEMENT_NAMESPACE,
        commit=commit,
    )


def crds_to_release(ctx: EnvContext) -> tuple[str, ...]:
    """The Ray CRDs Config Sync manages on the environment's cluster (none while the cluster
    cannot be asked yet: a new environment has nothing to prune)."""
    if not cluster_reachable(ctx):
        return ()
    api = cluster_api(ctx)
    names = []
    for name in kuberay.crd_names():
        found = k8s.get(api, "apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
        if found is not None and managed_by_config_sync(found):
            names.append(name)
    return tuple(names)


def wait_for_ray_crds(ctx: EnvContext) -> Outcome:
    """Readiness gate: KubeRay's CRDs are Established and GKE's Ray operator add-on serves them
    (not Config Sync: mlplat commits none)."""
    names = kuberay.crd_names()
    if ctx.dry_run or not ctx.env.cluster.ray_operator.enabled:
        why = "dry run" if ctx.dry_run else "no Ray operator add-on"
        return skipped_gate(ctx, "gate/crds", "ray.io", f"skipped ({why})")
    api = cluster_api(ctx)
    for crd in names:
        poll(
            f"gate/crd {crd}: Established, from the Ray operator add-on",
            lambda crd=crd: k8s.get(
                api,
                "apiextensions.k8s.io/v1",  # type: ignore[misc]
                "CustomResourceDefinition",
                crd,
            ),
            served_by_addon,
            deadline=ctx.deadlines.sync,
        )
    return crds_proven(ctx)


def crds_proven(ctx: EnvContext) -> Outcome:
    """The outcome of the Ray CRD gate once the add-on serves every CRD."""
    return report(
        ctx,
        Change("gate/crds", "ray.io", Action.NOOP),
        applied=False,
        detail=f"{len(kuberay.crd_names())} CRDs established",
    )
