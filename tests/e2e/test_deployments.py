"""mlplat as its users run it through Prefect deployments: a `prefect server` (on PostgreSQL
where it is installed, else SQLite), the process work pool `mlplat` with a worker, `prefect
deploy --all` from the repository, then `prefect deployment run 'provision-environment/dev'
--watch` converges dev on the sandbox; the run, its logs and its summary artifact are read back
through the Prefect API and `prefect flow-run logs`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterKey,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.sorting import LogSort
from prefect.flows import load_flow_arguments_from_entrypoint
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.e2e.prefect_stack import (
    ADMIN_TOKEN,
    POOL,
    ROOT,
    Postgres,
    Prefect,
    clean_env,
    postgres_available,
    stack,
    start_postgres,
    start_prefect_server,
    start_sandbox,
    start_worker,
)

RUN_TIMEOUT = 600
CREATE_CLUSTER = re.compile(r"gke/cluster mlp-dev: create\b")


def declared_deployments() -> dict[str, dict[str, Any]]:
    """prefect.yaml's deployments by `flow/deployment` (the flow's name read from its
    entrypoint's decorator, as `prefect deploy` does, without running the module)."""
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    declared = {}
    for deployment in config["deployments"]:
        flow = load_flow_arguments_from_entrypoint(str(ROOT / deployment["entrypoint"]))["name"]
        declared[f"{flow}/{deployment['name']}"] = deployment
    return declared


@dataclass
class Platform:
    """A Prefect server with the `mlplat` pool and its worker, next to a sandbox."""

    prefect: Prefect
    endpoints: Path
    postgres: Postgres | None


# One database per run: PostgreSQL where it is installed (what a production server uses), else
# SQLite. Deployments on SQLite also run in tests/reliability/test_concurrency.py.
DATABASE = "postgresql" if postgres_available() else "sqlite"


@pytest.fixture(params=[DATABASE])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """Sandbox (+ PostgreSQL) + `prefect server start` + `prefect work-pool create mlplat
    --type process` + `prefect worker start --pool mlplat`; all stopped afterwards."""
    with stack() as services:
        env = clean_env(tmp_path / "home")
        endpoints = start_sandbox(services, tmp_path / "sandbox", env)
        postgres = start_postgres(services, tmp_path) if request.param == "postgresql" else None
        prefect = start_prefect_server(services, tmp_path, env, postgres and postgres.url)
        prefect.must("work-pool", "create", POOL, "--type", "process")
        start_worker(
            services,
            prefect,
            {
                "MLPLAT_HOME": str(ROOT),
                "MLPLAT_SANDBOX_ENDPOINTS": str(endpoints),
                "GITHUB_TOKEN": ADMIN_TOKEN,
            },
        )
        yield Platform(prefect=prefect, endpoints=endpoints, postgres=postgres)


@pytest.mark.timeout(900)
def test_provision_dev_through_its_deployment(platform: Platform) -> None:
    prefect = platform.prefect
    deployed = prefect.cli(
        "--no-prompt", "deploy", "--all", env={"MLPLAT_HOME": str(ROOT)}, timeout=300
    )
    assert deployed.returncode == 0, deployed.stdout[-4000:] + deployed.stderr[-4000:]

    run = prefect.cli(
        "deployment",
        "run",
        "provision-environment/dev",
        "--watch",
        "--watch-timeout",
        str(RUN_TIMEOUT),
        timeout=RUN_TIMEOUT + 60,
    )
    found = re.search(r"UUID:\s*([0-9a-f-]{36})", run.stdout)
    assert found, run.stdout[-4000:] + run.stderr[-4000:]
    flow_run_id = UUID(found.group(1))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:] + _worker_log_tail(prefect)
    assert "Completed" in run.stdout, run.stdout[-4000:]

    with (
        temporary_settings(updates={PREFECT_API_URL: prefect.api_url}),
        get_client(sync_client=True) as client,
    ):
        deployments = {
            f"{client.read_flow(d.flow_id).name}/{d.name}": d for d in client.read_deployments()
        }
        declared = declared_deployments()
        assert set(deployments) == set(declared)
        for name, deployment in deployments.items():
            assert deployment.work_pool_name == POOL, name
            crons = [getattr(s.schedule, "cron", None) for s in deployment.schedules]
            assert crons == [s["cron"] for s in declared[name].get("schedules", [])], name

        flow_run = client.read_flow_run(flow_run_id)
        assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
        assert flow_run.deployment_id == deployments["provision-environment/dev"].id
        assert flow_run.name == "provision-environment[dev]"
        assert flow_run.parameters == {"env": "dev"}
        assert flow_run.work_pool_name == POOL

        logs = client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
            sort=LogSort.TIMESTAMP_ASC,
        )
        messages = [log.message for log in logs]
        assert any(CREATE_CLUSTER.search(m) for m in messages), "\n".join(messages[-80:])
        assert any(log.task_run_id is not None for log in logs), "no task-run logs"

        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["summary-dev"]))
        )
        assert [a.flow_run_id for a in artifacts] == [flow_run_id], artifacts
        assert artifacts[0].type == "table"
        assert "gke/cluster mlp-dev" in str(artifacts[0].data)

    # the server kept all of it in the database it was given
    if platform.postgres is not None:
        assert not (prefect.home / "prefect.db").exists()
        state = platform.postgres.query(
            f"select state_type from flow_run where id = '{flow_run_id}'"
        )
        assert state == "COMPLETED"
    else:
        assert (prefect.home / "prefect.db").is_file()

    printed = prefect.cli("flow-run", "logs", str(flow_run_id), timeout=120)
    assert printed.returncode == 0, printed.stderr[-4000:]
    assert CREATE_CLUSTER.search(printed.stdout), printed.stdout[-4000:]


def _worker_log_tail(prefect: Prefect) -> str:
    log = prefect.logs / "prefect-worker.log"
    return "\n--- worker log ---\n" + (log.read_text()[-6000:] if log.is_file() else "")
