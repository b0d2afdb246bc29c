"""The approval gate: a run against prod (approval_required) pauses with its plan and applies
nothing until approved (`mlplat approve prod`, through the Prefect API as the UI does);
rejected (`mlplat reject prod`), it ends without a change; approved after the world changed,
it plans again and pauses again with the new plan; a plan with no change does not pause. A
run that waits for prod meanwhile names the approval and how to give it."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any
from uuid import UUID

import pytest
from google.cloud import container_v1
from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterName,
    FlowRunFilterState,
    FlowRunFilterStateName,
)
from prefect.settings import PREFECT_API_URL

from flows.provision_environment import provision_environment
from mlplat.target import ENDPOINTS_ENV
from mlplat_cli.main import main
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.lock_holder import RunLogs, take_lock
from tests.flows.platform_clients import project_id, repo
from tests.sandbox.conftest import client_kwargs

RUN_NAME = "provision-environment[prod]"
CLUSTER = f"projects/{project_id('prod')}/locations/us-central1/clusters/mlp-prod"


class Background:
    """A flow call on its own thread, its result (or error) kept."""

    def __init__(self, call: Any) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        context = contextvars.copy_context()

        def run() -> None:
            try:
                self.result = context.run(call)
            except BaseException as exc:
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 300) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the run did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def _paused_run(known: set[UUID], key: str = "approval-prod", timeout: float = 240) -> UUID:
    """A prod run not in `known` (or, with `known` empty, any) once it is Paused as `key`."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    name=FlowRunFilterName(any_=[RUN_NAME]),
                    state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Paused"])),
                )
            )
            fresh = [
                r.id
                for r in runs
                if r.id not in known and r.state and r.state.state_details.pause_key == key
            ]
            if fresh:
                return fresh[0]
            time.sleep(0.5)
    raise AssertionError(f"the prod run did not pause for approval as {key!r}")


def _run(sandbox: Sandbox) -> Background:
    return Background(
        lambda: provision_environment(
            "prod", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
        )
    )


def _mlplat(*words: str) -> int:
    """The `mlplat` command, in this process (pointed at this sandbox and Prefect server)."""
    return main([*words, "--spec", str(REFERENCE)])


def _pool_max(sandbox: Sandbox, pool: str, maximum: int) -> None:
    """Change a node pool's autoscaling maximum by hand (as with gcloud)."""
    gke = container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))
    name = f"{CLUSTER}/nodePools/{pool}"
    found = gke.get_node_pool(name=name).autoscaling
    gke.set_node_pool_autoscaling(
        request={
            "name": name,
            "autoscaling": {
                "enabled": True,
                "total_min_node_count": found.total_min_node_count,
                "total_max_node_count": maximum,
                "location_policy": found.location_policy,
            },
        }
    )


def test_prod_pauses_for_approval_applies_only_when_approved_and_replans_after_a_change(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    monkeypatch.setenv(ENDPOINTS_ENV, str(sandbox.endpoints_path))
    admin(sandbox, "POST", "/counters/reset")
    rejected = _run(sandbox)
    first = _paused_run(set())
    assert writes(sandbox) == {}, "nothing is applied before approval"
    plan = Artifact.get("plan-prod")
    assert plan is not None and "gke/cluster mlp-prod" in str(plan.data)
    assert _mlplat("reject", "prod", "--reason", "not this week") == 0
    assert f"({first}) rejected" in capsys.readouterr().out
    result = rejected.join()
    assert result["approved"] is False and result["reason"] == "not this week"
    assert writes(sandbox) == {}, "rejected: nothing changed"

    approved = _run(sandbox)
    second = _paused_run({first})
    assert _mlplat("approve", "prod", "--reason", "change ticket 42") == 0
    assert f"({second}) approved" in capsys.readouterr().out
    applied = approved.join()
    rows = {row["resource"]: row for row in applied["rows"]}
    assert rows["gke/cluster mlp-prod"]["action"] == "create"
    assert rows["gke/cluster mlp-prod"]["applied"] == "yes"
    # prod's branch is protected: its files arrived through a pull request with the plan.
    pulls = list(repo(sandbox).get_pulls(state="closed", base="prod"))
    assert len(pulls) == 1 and pulls[0].merged
    assert "- write manifests/clusters/teams/vision.yaml" in pulls[0].body
    assert rows["git/manifests prod"]["detail"] == (
        f"pull request #{pulls[0].number} merged as {pulls[0].merge_commit_sha[:12]}"
    )
    assert repo(sandbox).get_branch("prod").commit.sha == pulls[0].merge_commit_sha

    _an_approval_after_a_change_by_hand_plans_again_and_pauses_again(sandbox)


def _an_approval_after_a_change_by_hand_plans_again_and_pauses_again(sandbox: Sandbox) -> None:
    """(On the provisioned prod: one provisioning serves both parts.)"""
    endpoints = str(sandbox.endpoints_path)
    _pool_max(sandbox, "gpu-l4-spot", 3)  # by hand: the next plan puts it back
    with RunLogs() as logs:
        run = _run(sandbox)
        paused = _paused_run(set())
        waiter = Background(lambda: take_lock("prod", str(REFERENCE), endpoints))
        deadline = time.monotonic() + 120
        while not [line for line in logs.of("take-lock[prod]") if "waiting for lock" in line]:
            assert time.monotonic() < deadline, logs.lines
            time.sleep(0.2)
        waiting = next(line for line in logs.of("take-lock[prod]") if "waiting for lock" in line)
        assert f"flow run '{RUN_NAME}' ({paused}, " in waiting, waiting
        assert "state Paused since" in waiting, waiting
        assert "paused for approval 'approval-prod'" in waiting, waiting
        assert "`mlplat approve prod`" in waiting and "`mlplat reject prod" in waiting, waiting

        _pool_max(sandbox, "gpu-l4-ondemand", 7)  # and another change while it waits
        admin(sandbox, "POST", "/counters/reset")
        assert _mlplat("approve", "prod") == 0
        assert _paused_run(set(), key="approval-prod-2") == paused, "paused again, same run"
        assert writes(sandbox) == {}, "the plan changed: nothing applied"
        plan = Artifact.get("plan-prod")
        assert plan is not None
        assert "gpu-l4-spot" in str(plan.data) and "gpu-l4-ondemand" in str(plan.data)
        assert waiter.thread.is_alive(), "the paused run keeps the environment"

        assert _mlplat("approve", "prod", "--reason", "both") == 0
        result = run.join()
        waiter.join()
    changed = {row["resource"]: row["applied"] for row in result["rows"] if row["action"] != "noop"}
    assert changed == {"gke/node-pool gpu-l4-spot": "yes", "gke/node-pool gpu-l4-ondemand": "yes"}
    replanned = [line for line in logs.of(RUN_NAME) if "the plan changed while waiting" in line]
    assert replanned and "gpu-l4-ondemand" in replanned[0], logs.of(RUN_NAME)

    converged = _run(sandbox).join()  # nothing to approve: no pause
    assert converged["counts"]["noop"] == len(converged["rows"])
    assert _mlplat("approve", "prod") == 1, "no run waits for approval"
