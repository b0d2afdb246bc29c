"""Drift of one environment: its batch observation (`observation`: the dry run of every step
provisioning takes, so a freshly provisioned environment shows nothing), the unmanaged children
on Google's side, and the cluster's objects, syncs and RayClusters by listing
(`cluster_drift`). Readiness gates are not part of drift."""

from __future__ import annotations

from mlplat.converge import cluster_drift, observation, unmanaged
from mlplat.converge.context import EnvContext
from mlplat.converge.findings import DriftClass, Finding, findings
from mlplat.gcp import projects
from mlplat.k8s import connection
from mlplat.render.desired import ownership_labels


def observe_environment(ctx: EnvContext, token: str) -> list[Finding]:
    """Every difference between the spec and the environment `ctx` names (a dry-run context).

    A project under the environment's ID that does not carry mlplat's ownership labels is one
    finding, and nothing in it is looked at: mlplat cannot prove it is its own (a project ID
    may be someone else's), so it is never changed here; a human labels it to adopt it."""
    if not ctx.dry_run:
        raise ValueError("observe_environment needs a dry-run context")
    try:
        observed = observation.observe(ctx, token)
        if observed is None:
            return [_project_not_ours(ctx)]
        accounts = observed.accounts
        outside = unmanaged.google_findings(ctx, accounts) if accounts is not None else []
        inside = cluster_drift.cluster_findings(ctx) if observed.reachable else []
        return findings(ctx.env_name, observed.outcomes()) + outside + inside
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
