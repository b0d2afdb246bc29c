"""The approval gate of environments whose spec asks for it: the run publishes its plan, pauses
until someone approves or rejects it in the Prefect UI (or through the API), and applies only
what was approved."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

from mlplat.errors import PermanentError

APPROVAL_POLL_SECONDS = 2


class Approval(RunInput):
    """What the approver answers: apply the plan or not, and why."""

    approve: bool
    reason: str = ""


def planned_changes(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(resource, action, fields) of every row that changes something."""
    return sorted(
        (row["resource"], row["action"], row["fields"])
        for row in plan["rows"]
        if row["action"] != "noop" and not row["resource"].startswith("gate/")
    )


def request_approval(env: str, plan: dict[str, Any], timeout: int) -> Approval:
    """Pause this run until its plan is approved or rejected (fails after `timeout` s)."""
    changes = planned_changes(plan)
    get_run_logger().warning(
        "environment %s requires approval: %d change(s) planned (artifact plan-%s); approve "
        "or reject this paused run in the Prefect UI within %ds",
        env,
        len(changes),
        env,
        timeout,
    )
    decision = pause_flow_run(
        wait_for_input=Approval,
        timeout=timeout,
        poll_interval=APPROVAL_POLL_SECONDS,
        key=f"approval-{env}",
    )
    return decision


def check_unchanged(env: str, approved: dict[str, Any], now: dict[str, Any]) -> None:
    """Apply only the approved plan: if the platform moved while waiting, stop."""
    before, after = planned_changes(approved), planned_changes(now)
    if before != after:
        added = sorted(set(after) - set(before))
        gone = sorted(set(before) - set(after))
        raise PermanentError(
            f"environment {env}: the plan changed while waiting for approval "
            f"(new: {added or 'none'}; no longer needed: {gone or 'none'}); "
            "nothing was applied: run again to plan and approve anew"
        )
