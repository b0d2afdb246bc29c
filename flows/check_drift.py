"""Flow: compare the spec with what is there (Google resources, Git, cluster sync state) and
report each difference; with `remediate`, converge and report what is left for a human; with
`prune` as well, delete the unmanaged objects found inside what mlplat owns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact
from prefect.client.schemas.objects import State
from prefect.states import Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner

from flows._locks import environment_lock
from flows.provision_environment import (
    DEFAULT_SPEC_DIR,
    context,
    context_of,
    converge_environment,
)
from mlplat.converge.findings import DriftClass, Finding
from mlplat.errors import MlplatError
from mlplat.specs import PlatformSpec, load_spec
from tasks import cluster_drift

ALL = "all"
# Environments observed at once. Measured at 50 clusters x 100 teams on 2 cores: 4 and 8 take
# the same time (41 s, CPU-bound), 4 peaks at 464 MB and 8 at 578 MB (each environment being
# read holds its objects and clients).
PARALLEL_ENVIRONMENTS = 4
_RUNNER: Any = ThreadPoolTaskRunner(max_workers=PARALLEL_ENVIRONMENTS)  # Prefect's stub is narrower


def _check(spec: PlatformSpec, names: list[str], endpoints: str | None) -> list[Finding]:
    pending = [
        cluster_drift.observe_environment_drift.submit(
            context_of(spec, name, dry_run=True, endpoints=endpoints)
        )
        for name in names
    ]
    return [finding for future in pending for finding in future.result()]


@flow(
    name="check-drift",
    flow_run_name="check-drift[{env}]",
    task_runner=_RUNNER,
)
def check_drift(
    env: str = ALL,
    remediate: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
    prune: bool = False,
) -> State[Any]:
    """Completed when nothing drifted; a failed state named `Drifted` otherwise (so Prefect
    automations can notify). `remediate=True` converges the drifted environments first and
    reports only what remains; unmanaged objects are left alone (and listed as what `prune`
    would delete) unless `prune=True` (which implies `remediate`)."""
    logger = get_run_logger()
    spec = load_spec(Path(spec_dir))
    names = sorted(spec.environments) if env == ALL else [env]
    remediate = remediate or prune
    found = _check(spec, names, endpoints)
    fixable = [f for f in found if prune or f.drift is not DriftClass.UNMANAGED]
    if fixable and remediate:
        drifted = sorted({f.environment for f in fixable})
        gated = [n for n in drifted if spec.environments[n].approval_required]
        for name in gated:
            logger.warning(
                "%s requires approval: not remediated nor pruned here; run "
                "provision-environment %s (it pauses with its plan for approval); unmanaged "
                "objects there are left to a human",
                name,
                name,
            )
        drifted = [n for n in drifted if n not in gated]
        logger.info("remediating %s", ", ".join(drifted) or "nothing")
        for name in drifted:
            ctx = context(name, spec_dir, dry_run=False, endpoints=endpoints)
            with environment_lock(ctx):
                mine = [f for f in found if f.environment == name]
                try:
                    if prune:  # first: an unmanaged node pool may hold the cluster's quota
                        cluster_drift.prune_unmanaged(ctx, mine)
                    # Objects first: a deleted namespace must exist again before its Secret.
                    cluster_drift.restore_cluster_objects(ctx, mine)
                    converge_environment(ctx)
                except MlplatError as exc:  # what is left is reported by the check below
                    logger.warning("remediation of %s stopped: %s", name, exc)
        found = _check(spec, names, endpoints)
    left = [f.resource for f in found if f.drift is DriftClass.UNMANAGED]
    if left:
        logger.warning(
            "unmanaged, left alone (`prune` deletes them): %s", ", ".join(sorted(set(left)))
        )
    rows = [f.row() for f in found]
    create_table_artifact(
        table=rows or [{"environment": ", ".join(names), "drift": "none"}],
        key=f"drift-{env}",
        description=f"mlplat drift check of {env}: {len(found)} finding(s)",
    )
    for finding in found:
        logger.warning(
            "drift: %s %s %s %s",
            finding.environment,
            finding.drift.value,
            finding.resource,
            finding.field,
        )
    result = {"environments": names, "findings": rows}
    if found:
        return Failed(name="Drifted", message=f"{len(found)} drift finding(s)", data=result)
    return Completed(message="no drift", data=result)
