"""Google identities of the platform: the clusters' minimal node service account (the seed ran
nodes as the Compute default account, with Editor)."""

from __future__ import annotations

from contextlib import suppress

from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.errors import ConflictError
from mlplat.gcp import iam
from mlplat.plan import Action, Change, FieldChange
from mlplat.specs import naming

NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")


def ensure_node_service_account(ctx: EnvContext, *, absent: bool = False) -> Outcome:
    """The node service account with only the roles GKE nodes need."""
    account = naming.node_service_account_id(ctx.platform, ctx.env)
    email = naming.service_account_email(account, ctx.project)
    kind = "iam/service-account"
    observed = None if absent else iam.get_service_account(ctx.target, ctx.project, email)
    wanted = {role: {f"serviceAccount:{email}"} for role in NODE_ROLES}
    if observed is None:
        change = Change(kind, email, Action.CREATE)
        if ctx.dry_run:
            return report(ctx, change, applied=False)
        with suppress(ConflictError):  # created by an earlier run, or a concurrent one
            iam.create_service_account(
                ctx.target,
                ctx.project,
                account,
                f"{ctx.platform.name} {ctx.env.name} nodes",
                "GKE node identity, managed by mlplat",
            )
        iam.ensure_project_bindings(ctx.target, ctx.project, wanted)
        return report(ctx, change, applied=True)
    missing = iam.ensure_project_bindings(ctx.target, ctx.project, wanted, dry_run=ctx.dry_run)
    if not missing:
        return report(ctx, Change(kind, email, Action.NOOP), applied=False)
    fields = tuple(FieldChange(f"projectRoles.{role}", "granted", None) for role in sorted(missing))
    return report(ctx, Change(kind, email, Action.UPDATE, fields), applied=not ctx.dry_run)
