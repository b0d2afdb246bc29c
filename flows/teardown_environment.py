"""Flow: take an environment down, in reverse order of the chain (Git content and what Config
Sync applied, fleet, cluster, identities, network, branch; the project only when asked).
Without `confirm` it changes nothing and publishes the plan."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows._locks import mutating
from flows.provision_environment import DEFAULT_SPEC_DIR, context, publish
from mlplat.converge import teardown
from mlplat.converge.context import EnvContext, Outcome
from tasks import teardown as steps


def _teardown(ctx: EnvContext, delete_project: bool) -> dict[str, Any]:
    outcomes: list[Outcome] = steps.remove_gitops_content(ctx)
    if teardown.project_alive(ctx):
        outcomes += steps.remove_fleet(ctx)
        outcomes.append(steps.remove_cluster(ctx))
        identities = steps.remove_identities.submit(ctx)
        network = steps.remove_network.submit(ctx)
        outcomes += [*identities.result(), *network.result()]
    outcomes.append(steps.remove_branch(ctx))
    if delete_project:
        outcomes.append(steps.remove_project(ctx))
    return publish(ctx, outcomes, what="teardown")


@flow(name="teardown-environment", flow_run_name="teardown-environment[{env}]")
def teardown_environment(
    env: str,
    confirm: bool = False,
    delete_project: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
) -> dict[str, Any]:
    """Delete everything mlplat made for `env` (the project too with `delete_project`: its ID
    then stays reserved for 30 days). Without `confirm`, only the plan is published."""
    ctx = context(env, spec_dir, dry_run=not confirm, endpoints=endpoints)
    logger = get_run_logger()
    logger.warning(
        "teardown of %s%s%s",
        env,
        " including project " + ctx.project if delete_project else " (the project stays)",
        "" if confirm else " — plan only: confirm=True deletes",
    )
    with mutating(ctx):
        return _teardown(ctx, delete_project)
