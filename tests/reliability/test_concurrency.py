"""Two provisioning runs of one environment at once (issue #8): one as a user starts it from the
command line (`mlplat up --env prod`: the flow in-process against the Prefect API), one as a
deployment run (`prefect deployment run provision-environment/prod`, executed by a process
worker), both against the same `prefect server` and sandbox. One proceeds; the other waits,
saying which environment it waits for and which run holds it, then observes a converged
environment and changes nothing. The sandbox's request log shows that every mutating call
falls inside the first run, before the second one got the environment.

The environment is prod, which requires approval: the first run plans, then pauses holding the
environment until the test approves it, which it does once the second run says it is waiting.
So the runs overlap whatever the machine's speed, and the case "a run waiting for approval
keeps others out until it has applied what was approved" is covered too.

CI runs the deployment first and the CLI second; `MLPLAT_RELIABILITY=full` also the reverse."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    FlowRunFilter,
    FlowRunFilterName,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.client.schemas.sorting import LogSort
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.e2e.prefect_stack import (
    ADMIN_TOKEN,
    POOL,
    ROOT,
    Prefect,
    clean_env,
    stack,
    start_prefect_server,
    start_sandbox,
    start_worker,
)
from tests.reliability.conftest import FULL

ENV = "prod"  # approval-gated: its first run pauses with its plan, holding the environment
RUN = f"provision-environment[{ENV}]"
DEPLOYMENT = f"provision-environment/{ENV}"
LOCK = rf"mlplat-mlp-{ENV}-[0-9a-f]{{10}}"  # the reference platform's prod on this sandbox
TIMEOUT = 240.0
LOG_SIZE = 2000  # sandbox.counters.Counters' request log: older entries fall out


@dataclass
class Platform:
    """A sandbox and a Prefect server with the `mlplat` pool, its worker and prod's deployment."""

    prefect: Prefect
    sandbox_dir: Path
    admin: str
    user_env: dict[str, str]
    logs: Path


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    with stack() as services:
        env = clean_env(tmp_path / "home")
        sandbox_dir = tmp_path / "sandbox"
        endpoints = start_sandbox(services, sandbox_dir, env)
        prefect = start_prefect_server(services, tmp_path, env)
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
        deployed = prefect.cli(
            "--no-prompt", "deploy", "--name", DEPLOYMENT, env={"MLPLAT_HOME": str(ROOT)}
        )
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        # what `mlplat up` needs to find this sandbox and this Prefect server
        user_env = {**prefect.env, "MLPLAT_SANDBOX_STATE_DIR": str(sandbox_dir)}
        admin = json.loads(endpoints.read_text())["admin"]
        yield Platform(prefect, sandbox_dir, admin, user_env, prefect.logs)


def _admin(platform: Platform, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(platform.admin + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _until(what: str, check: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
    started = time.monotonic()
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() - started > timeout:
            raise AssertionError(f"no {what} after {timeout:.0f}s")
        time.sleep(0.5)


class Runs:
    """The two runs as the Prefect API shows them."""

    def __init__(self, client: SyncPrefectClient) -> None:
        self.client = client

    def of_dev(self) -> list[FlowRun]:
        return self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[RUN]))
        )

    def deployment_run(self) -> FlowRun | None:
        return next((r for r in self.of_dev() if r.deployment_id is not None), None)

    def cli_run(self) -> FlowRun | None:
        return next((r for r in self.of_dev() if r.deployment_id is None), None)

    def logs(self, run: UUID) -> list[tuple[datetime, str]]:
        logs = self.client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run])),
            sort=LogSort.TIMESTAMP_ASC,
        )
        return [(log.timestamp, log.message) for log in logs]

    def logged(self, run: UUID, pattern: str) -> tuple[datetime, str] | None:
        return next(((t, m) for t, m in self.logs(run) if re.search(pattern, m)), None)

    def paused(self, run: UUID) -> bool:
        found = self.client.read_flow_run(run)
        return found.state is not None and found.state.is_paused()

    def finished(self, run: UUID) -> FlowRun | None:
        found = self.client.read_flow_run(run)
        return found if found.state is not None and found.state.is_final() else None

    def summary(self, run: UUID) -> str:
        artifacts = self.client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[f"summary-{ENV}"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[run]),
            )
        )
        assert len(artifacts) == 1, artifacts
        return str(artifacts[0].description)


def _start_cli(platform: Platform) -> subprocess.Popen[str]:
    """`mlplat up --env prod` (without --approve), its output in logs/mlplat-up.log."""
    with (platform.logs / "mlplat-up.log").open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlplat_cli.main", "up", "--env", ENV],
            cwd=ROOT,
            env=platform.user_env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    return process


def _start_deployment(platform: Platform) -> UUID:
    started = platform.prefect.must("deployment", "run", DEPLOYMENT)
    found = re.search(r"UUID:\s*([0-9a-f-]{36})", started)
    assert found, started
    return UUID(found.group(1))


def _epoch(moment: datetime | None) -> float:
    assert moment is not None
    return moment.timestamp()


@pytest.mark.timeout(900)  # the stack alone took 345 s to start on a loaded 2-core machine
@pytest.mark.parametrize(
    "first",
    [
        "deployment",
        pytest.param(
            "cli", marks=pytest.mark.skipif(not FULL, reason="MLPLAT_RELIABILITY=full only")
        ),
    ],
)
def test_one_run_proceeds_the_other_waits_then_changes_nothing(
    platform: Platform, first: str
) -> None:
    _admin(platform, "POST", "/counters/reset")  # the request log starts here
    cli: subprocess.Popen[str] | None = None
    cli_out = platform.logs / "mlplat-up.log"
    try:
        with (
            temporary_settings(updates={PREFECT_API_URL: platform.prefect.api_url}),
            get_client(sync_client=True) as client,
        ):
            runs = Runs(client)
            if first == "deployment":
                winner_id = _start_deployment(platform)
            else:
                cli = _start_cli(platform)
                winner_id = _until("the CLI's flow run", runs.cli_run).id
            _until("the first run paused with its plan", lambda: runs.paused(winner_id))
            if first == "deployment":
                cli = _start_cli(platform)
                loser_id = _until("the CLI's flow run", runs.cli_run).id
            else:
                loser_id = _start_deployment(platform)
            waiting = _until(
                "the second run waiting", lambda: runs.logged(loser_id, "^waiting for lock")
            )
            approved_at = time.time()
            answered = subprocess.run(  # as its user would: the CLI finds the paused run
                [sys.executable, "-m", "mlplat_cli.main", "approve", ENV, "--reason", "test"],
                check=False,
                cwd=ROOT,
                env=platform.user_env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
            assert answered.returncode == 0, answered.stdout + answered.stderr
            assert str(winner_id) in answered.stdout, answered.stdout

            winner = _until("the first run's end", lambda: runs.finished(winner_id))
            loser = _until("the second run's end", lambda: runs.finished(loser_id))
            assert cli is not None
            cli.wait(timeout=TIMEOUT)
            assert winner.state is not None and winner.state.is_completed(), winner.state
            assert loser.state is not None and loser.state.is_completed(), loser.state

            # the waiting run says what it waits for, and who holds it
            message = waiting[1]
            assert re.search(f"waiting for lock {LOCK}: environment '{ENV}'", message), message
            assert f"flow run '{RUN}' ({winner_id}, " in message, message
            holder = (
                f"by deployment '{DEPLOYMENT}'"
                if first == "deployment"
                else "outside any deployment, e.g. by the mlplat CLI"
            )
            assert holder in message, message
            assert "state Paused since" in message, message
            assert f"paused for approval 'approval-{ENV}'" in message, message
            assert f"`mlplat approve {ENV}`" in message, message
            acquired = runs.logged(loser_id, f"^acquired {LOCK} after .*waited for another run")
            assert acquired is not None, runs.logs(loser_id)

            # the first run did the work; the second found nothing to do
            done = runs.summary(winner_id)
            assert re.search(r"\d+ create", done), done
            second = runs.summary(loser_id)
            assert re.fullmatch(rf"mlplat summary of environment {ENV}: \d+ noop", second), second

            # every mutation lies inside the first run, after its approval, and the second
            # run had the environment only after the last of them
            requests = _admin(platform, "GET", "/requests")["requests"]
            total = _admin(platform, "GET", "/counters")
            assert len(requests) < LOG_SIZE, "the request log overflowed: it is not complete"
            assert len(requests) >= total["reads"] + total["writes"]
            offset = _admin(platform, "GET", "/clock")["offset"]
            mutations = [
                r["time"] - offset
                for r in requests
                if r["method"] and not r["read"] and r["status"] < 400
            ]
            assert len(mutations) >= 12, mutations
            end = _epoch(winner.end_time)
            assert all(approved_at <= t <= end for t in mutations), (approved_at, end, mutations)
            assert _epoch(acquired[0]) >= max(mutations), "the second run got the lock early"
    finally:
        if cli is not None and cli.poll() is None:
            cli.kill()
    output = cli_out.read_text()
    assert cli is not None and cli.returncode == 0, output[-4000:]
    if first == "deployment":  # what the CLI's user saw while waiting, and at the end
        assert re.search(f"waiting for lock {LOCK}", output), output[-4000:]
        assert re.search(rf"^  {ENV}: \d+ noop$", output, re.MULTILINE), output[-4000:]
    else:
        assert re.search(rf"^  {ENV}: .*\d+ create", output, re.MULTILINE), output[-4000:]
