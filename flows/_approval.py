"""The approval gate of environments whose spec asks for it: the run publishes its plan, pauses
until someone approves or rejects it (`mlplat approve ENV` / `mlplat reject ENV`, the Prefect
UI, or the API), and applies only what was approved: approved after the world changed, it
plans again and, if the plan differs, pauses again with the new plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import get_run_logger
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput

APPROVAL_POLL_SECONDS = 2


class Approval(RunInput):
    """What the approver answers: apply the plan or not, and why."""

    approve: bool
    reason: str = ""


def approval_key(env: str, round_: int = 1) -> str:
    """The pause key of the `round_`th approval asked in one run (Prefect keeps each pause's
    input under its key, so a second pause needs its own)."""
    return f"approval-{env}" if round_ == 1 else f"approval-{env}-{round_}"


def planned_changes(plan: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(resource, action, fields) of every row that changes something."""
    return sorted(
        (row["resource"], row["action"], row["fields"])
        for row in plan["rows"]
        if row["action"] != "noop" and not row["resource"].startswith("gate/")
    )


def request_approval(env: str, plan: dict[str, Any], timeout: int, round_: int = 1) -> Approval:
    """Pause this run until its plan is approved or rejected (fails after `timeout` s)."""
    changes = planned_changes(plan)
    key = approval_key(env, round_)
    get_run_logger().warning(
        "environment %s requires approval: %d change(s) planned (artifact plan-%s); paused as "
        "%r: approve with `mlplat approve %s`, reject with `mlplat reject %s --reason ...` (or "
        "Resume this run in the Prefect UI) within %ds",
        env,
        len(changes),
        env,
        key,
        env,
        env,
        timeout,
    )
    decision = pause_flow_run(
        wait_for_input=Approval,
        timeout=timeout,
        poll_interval=APPROVAL_POLL_SECONDS,
        key=key,
    )
    return decision


def approve_plan(
    env: str, make_plan: Callable[[], dict[str, Any]], timeout: int
) -> tuple[dict[str, Any], Approval | None]:
    """Plan, and pause for approval while the plan changes something: the last plan and the
    decision on it (None: nothing to approve). Approved, it plans again; a plan that differs
    from the approved one is published and waits for its own approval, so what is applied
    next is what was last approved."""
    logger = get_run_logger()
    plan = make_plan()
    round_ = 1
    while planned_changes(plan):
        decision = request_approval(env, plan, timeout, round_)
        if not decision.approve:
            logger.warning("plan of %s rejected: %s", env, decision.reason or "-")
            return plan, decision
        logger.info("plan of %s approved: %s; planning again", env, decision.reason or "-")
        now = make_plan()
        before, after = planned_changes(plan), planned_changes(now)
        if before == after:
            return now, decision
        logger.warning(
            "environment %s: the plan changed while waiting for approval (new: %s; no longer "
            "needed: %s); nothing applied: asking approval of the new plan",
            env,
            sorted(set(after) - set(before)) or "none",
            sorted(set(before) - set(after)) or "none",
        )
        plan, round_ = now, round_ + 1
    return plan, None
