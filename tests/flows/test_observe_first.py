"""A provisioning run observes the environment in batch first and makes task runs only for what
differs: a converged re-run makes none per resource and no write; one change out of band makes
exactly its step's task run, which puts it back. The summary still lists every resource."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from google.cloud import container_v1
from prefect import flow
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from flows._observed import Known
from flows.provision_environment import context, converge_environment, provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.sandbox.conftest import client_kwargs

CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"
POOL = "gpu-l4-spot"
# What a run that changes nothing still runs: its observation, and the teams' access reviews.
EVERY_RUN = {"observe-environment[dev]", "verify-team-access[dev]"}


def _run(sandbox: Sandbox) -> tuple[dict[str, Any], set[str]]:
    """One provisioning run of dev: its result and the names of its task runs."""
    state = provision_environment(
        "dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path), return_state=True
    )
    result: dict[str, Any] = state.result()
    flow_run = state.state_details.flow_run_id
    assert isinstance(flow_run, UUID)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run]))
        )
    return result, {run.name for run in runs}


def _summary() -> list[dict[str, str]]:
    artifact = Artifact.get("summary-dev")
    assert artifact is not None
    data: Any = artifact.data  # type: ignore[union-attr]
    rows: list[dict[str, str]] = json.loads(data) if isinstance(data, str) else data
    return rows


def test_converged_rerun_runs_no_step_and_one_change_runs_only_its_step(
    sandbox: Sandbox,
) -> None:
    _, cold_runs = _run(sandbox)
    assert "ensure-cluster[dev]" in cold_runs, "a cold run runs every step as a task"
    admin(sandbox, "POST", "/counters/reset")

    again, task_runs = _run(sandbox)
    assert writes(sandbox) == {}
    assert task_runs == EVERY_RUN
    assert again["counts"]["noop"] == len(again["rows"])
    assert again["rows"] == _every_step_as_a_task(sandbox), "the same rows as step by step"
    summary = _summary()
    assert len(summary) == len(again["rows"]), "the summary lists every resource"
    observed = {row["resource"]: row["observed"] for row in summary}
    assert observed[f"gke/node-pool {POOL}"].startswith("observed: "), observed
    assert observed[f"gke/node-pool {POOL}"].endswith("fields compared")

    gke = container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))
    pool = f"{CLUSTER}/nodePools/{POOL}"
    labels = {**gke.get_node_pool(name=pool).config.labels, "resource-type": "edited"}
    gke.update_node_pool(request={"name": pool, "labels": {"labels": labels}})
    admin(sandbox, "POST", "/counters/reset")

    fixed, task_runs = _run(sandbox)
    assert task_runs == {*EVERY_RUN, f"ensure-node-pool[dev/{POOL}]"}
    rows = {row["resource"]: row for row in fixed["rows"]}
    assert rows[f"gke/node-pool {POOL}"]["action"] == "update"
    assert fixed["counts"]["update"] == 1
    assert gke.get_node_pool(name=pool).config.labels["resource-type"] == "spot"
    assert set(writes(sandbox)) == {"container.projects.locations.clusters.nodePools.update"}


@flow
def _step_by_step(endpoints: str) -> list[dict[str, str]]:
    ctx = context("dev", str(REFERENCE), dry_run=False, endpoints=endpoints)
    return [outcome.row() for outcome in converge_environment(ctx, Known())]


def _every_step_as_a_task(sandbox: Sandbox) -> list[dict[str, str]]:
    """The rows of a run that settles nothing from an observation (every step a task run)."""
    return _step_by_step(str(sandbox.endpoints_path))
