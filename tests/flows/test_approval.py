"""The approval gate: a run against prod (approval_required) pauses with its plan and applies
nothing until approved through the Prefect API; rejected, it ends without a change; a plan
with no change does not pause."""

from __future__ import annotations

import contextvars
import threading
import time
from typing import Any
from uuid import UUID

from prefect.artifacts import Artifact
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterName,
    FlowRunFilterState,
    FlowRunFilterStateName,
)
from prefect.flow_runs import resume_flow_run

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.flows.platform_clients import repo

RUN_NAME = "provision-environment[prod]"


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


def _paused_run(known: set[UUID], timeout: float = 240) -> UUID:
    """The new prod run once it is Paused."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    name=FlowRunFilterName(any_=[RUN_NAME]),
                    state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Paused"])),
                )
            )
            fresh = [r.id for r in runs if r.id not in known]
            if fresh:
                return fresh[0]
            time.sleep(0.5)
    raise AssertionError("the prod run did not pause for approval")


def _run(sandbox: Sandbox) -> Background:
    return Background(
        lambda: provision_environment(
            "prod", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
        )
    )


def test_prod_pauses_for_approval_then_applies_only_when_approved(sandbox: Sandbox) -> None:
    admin(sandbox, "POST", "/counters/reset")
    rejected = _run(sandbox)
    first = _paused_run(set())
    assert writes(sandbox) == {}, "nothing is applied before approval"
    plan = Artifact.get("plan-prod")
    assert plan is not None and "gke/cluster mlp-prod" in str(plan.data)
    resume_flow_run(first, run_input={"approve": False, "reason": "not this week"})
    result = rejected.join()
    assert result["approved"] is False and result["reason"] == "not this week"
    assert writes(sandbox) == {}, "rejected: nothing changed"

    approved = _run(sandbox)
    second = _paused_run({first})
    resume_flow_run(second, run_input={"approve": True, "reason": "change ticket 42"})
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

    admin(sandbox, "POST", "/counters/reset")
    converged = _run(sandbox).join()  # nothing to approve: no pause
    assert converged["counts"]["noop"] == len(converged["rows"])
    assert writes(sandbox) == {}
