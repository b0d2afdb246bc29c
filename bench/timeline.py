"""Where the wall time went: the critical chain of the drawn graph, step by step, against when
mlplat's matching task finished (read back from the Prefect API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bench.schedule import Graph, finish_times

# Graph step (without the environment) → the task that finishes it, by task-name prefix.
_TASK_OF = {
    "project": "ensure-project",
    "billing": "ensure-billing",
    "billing-settle": "ensure-billing",
    "services": "ensure-apis",
    "network": "ensure-network",
    "subnet": "ensure-subnet",
    "router": "ensure-router",
    "cluster": "ensure-cluster",
    "cluster-reconcile": "ensure-cluster",
    "membership": "ensure-membership",
    "feature": "ensure-fleet-feature",
    "config-management": "ensure-config-management",
    "config-sync-install": "ensure-cluster-software",
    "policy-controller": "ensure-policy-controller",
    "policy-controller-install": "ensure-policy-controller",
    "first-sync": "ensure-cluster-software",
    "root-sync": "ensure-cluster-software",
    "ray-operator-addon": "ensure-cluster-software",
    "node-service-account": "ensure-node-identity",
    "iam-propagation": "ensure-node-identity",
}


def task_runs(since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Task runs that started in [since, until]: name, start and end (seconds after since)."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 - Prefect is optional
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        TaskRunFilter,
        TaskRunFilterStartTime,
    )

    runs: list[dict[str, Any]] = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            page = client.read_task_runs(
                task_run_filter=TaskRunFilter(
                    start_time=TaskRunFilterStartTime(after_=since, before_=until)
                ),
                offset=offset,
                limit=200,
            )
            runs += [
                {
                    "name": run.name,
                    "start": (run.start_time - since).total_seconds(),
                    "end": (run.end_time - since).total_seconds(),
                }
                for run in page
                if run.start_time and run.end_time
            ]
            if len(page) < 200:
                return sorted(runs, key=lambda r: r["start"])
            offset += 200


def critical_chain(graph: Graph) -> list[tuple[str, float]]:
    """The steps of the longest chain with their finish times, first to last."""
    finish = finish_times(graph)
    last = max(graph.steps, key=finish.__getitem__)
    chain = [last]
    while graph.steps[chain[-1]].after:
        chain.append(max(graph.steps[chain[-1]].after, key=finish.__getitem__))
    return [(name, finish[name]) for name in reversed(chain)]


def _task_for(step: str) -> str:
    """The task whose end marks `step` done ("" when none does: an API's propagation, or a
    RepoSync's first sync, which ensure-team-space waits for on its way to the RayCluster)."""
    if step.startswith("team-"):
        return "" if step.endswith("/reposync") else "ensure-team-space"
    if step.startswith("node-pool-"):
        return "ensure-node-pool"
    if step.startswith("reservation-"):
        return "ensure-reservations"
    return _TASK_OF.get(step, "")


def breakdown(
    graph: Graph, runs: list[dict[str, Any]], envs: dict[str, str], time_scale: float
) -> list[dict[str, Any]]:
    """Per step of the critical chain: when the bound finishes it and when mlplat's task did
    (the latest-ending matching task of that environment: its start and end), in wall seconds."""
    rows = []
    for name, finish in critical_chain(graph):
        label, _, step = name.partition("/")
        env = envs[label]
        task = _task_for(step)
        matching = [
            r for r in runs if task and r["name"].startswith(task + "[") and env in r["name"]
        ]
        last = max(matching, key=lambda r: r["end"]) if matching else None
        bound = finish / time_scale
        rows.append(
            {
                "step": name,
                "drawn_s": round(graph.steps[name].seconds / time_scale, 2),
                "bound_done_s": round(bound, 2),
                "task": task,
                "mlplat_start_s": None if last is None else round(last["start"], 2),
                "mlplat_done_s": None if last is None else round(last["end"], 2),
            }
        )
    return rows
