"""Drift of what each team has outside Git on one environment (its Google service account with
the Workload Identity binding, its `git-creds` Secret), read with one listing per kind for the
whole environment: the project's accounts, one Cloud Asset search for their policies, the
`git-creds` Secrets of every namespace (the root one included). Calls grow with environments,
not teams.

The asset inventory may lag a change: a team whose account looks different there is read again
directly (the very step a plan runs), so only what a plan would show is reported."""

from __future__ import annotations

from typing import Any

from mlplat.converge.cluster_software import cluster_api, git_creds_outcome
from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.converge.teams import ensure_team_identity, team_identity
from mlplat.gcp import asset, iam
from mlplat.k8s import objects as k8s
from mlplat.plan import Action, Change
from mlplat.specs import Team, naming


def observe_teams(
    ctx: EnvContext,
    token: str,
    secrets: dict[str, dict[str, Any]],
    *,
    absent: bool = False,
    services_ready: bool = True,
    accounts: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Outcome], dict[str, Outcome]]:
    """The dry-run outcomes of every team's identity and of its credentials on the environment,
    each by team, given its `git-creds` Secrets by namespace (`git_creds_secrets`). `absent`:
    the project is still to be created (nothing to read); `services_ready`: its APIs are all
    enabled (else the asset search may not be, and each account is read directly);
    `accounts`: the project's service accounts when already listed."""
    members = ctx.spec.teams_in(ctx.env_name)
    identities = _identities(ctx, members, absent, services_ready, accounts)
    credentials = {
        m.name: git_creds_outcome(ctx, token, m.namespace_name, secrets.get(m.namespace_name))
        for m in members
    }
    return identities, credentials


def _identities(
    ctx: EnvContext,
    members: tuple[Team, ...],
    absent: bool,
    services_ready: bool,
    accounts: list[dict[str, Any]] | None,
) -> dict[str, Outcome]:
    if absent or not members:
        return {m.name: ensure_team_identity(ctx, m, absent=True) for m in members}
    if accounts is None:
        accounts = iam.list_service_accounts(ctx.target, ctx.project)
    by_email = {str(a.get("email")): a for a in accounts}
    policies = (
        asset.service_account_policies(ctx.target, ctx.project)
        if services_ready and by_email
        else None
    )
    return {m.name: _identity(ctx, m, by_email, policies) for m in members}


def _identity(
    ctx: EnvContext,
    member: Team,
    accounts: dict[str, dict[str, Any]],
    policies: dict[str, asset.Policy] | None,
) -> Outcome:
    identity = team_identity(ctx, member)
    account = accounts.get(identity.email)
    if account is None:
        return ensure_team_identity(ctx, member, absent=True)
    if policies is not None:
        held = iam.bindings_of(policies.get(str(account.get("uniqueId")), {}))
        if not iam.missing_bindings(held, identity.wanted):
            change = Change("iam/service-account", identity.email, Action.NOOP)
            return report(ctx, change, applied=False)
    return ensure_team_identity(ctx, member)  # read directly: the inventory may lag


def git_creds_secrets(ctx: EnvContext) -> dict[str, dict[str, Any]]:
    """Namespace → its `git-creds` Secret, for every namespace of the (reachable) cluster, in
    one field-selected list."""
    found = k8s.list_(
        cluster_api(ctx), "v1", "Secret", field_selector=f"metadata.name={naming.GIT_CREDS_SECRET}"
    )
    return {str(s["metadata"].get("namespace")): s for s in found}
