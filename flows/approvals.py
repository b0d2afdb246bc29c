"""Answering a run paused for approval from the command line (`mlplat approve ENV`, `mlplat
reject ENV`), as the Prefect UI does: find the paused run of that environment of the platform
and target at hand, and resume it with the answer as its input."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterName,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.exceptions import ObjectNotFound
from prefect.flow_runs import resume_flow_run

from flows._approval import Approval, approval_key
from flows._locks import lock_name, read_holder
from flows.provision_environment import DEFAULT_SPEC_DIR, context_of
from mlplat.converge.context import EnvContext
from mlplat.specs import load_spec


class NoPausedRunError(LookupError):
    """No run of the environment is waiting for approval."""


def _waits_for_approval(run: FlowRun, env: str) -> bool:
    state = run.state
    return bool(
        state is not None
        and state.is_paused()
        and str(state.state_details.pause_key or "").startswith(approval_key(env))
    )


def _same_lock(run: FlowRun, name: str) -> bool:
    """Whether a run's parameters name the platform and target of lock `name`."""
    params = run.parameters
    try:
        ctx = context_of(
            load_spec(Path(str(params.get("spec_dir") or DEFAULT_SPEC_DIR))),
            str(params["env"]),
            dry_run=True,
            endpoints=params.get("endpoints"),
        )
    except Exception:  # a run of another platform, or one whose spec is gone: not this one
        return False
    return lock_name(ctx) == name


def paused_approval(ctx: EnvContext) -> FlowRun:
    """The run of this environment (of this platform, on this target) paused for approval:
    the holder of its lock (a paused run keeps it), else a paused run whose parameters name
    this platform."""
    name = lock_name(ctx)
    with get_client(sync_client=True) as client:
        holder = read_holder(client, name)
        if holder is not None:
            try:
                run = client.read_flow_run(UUID(holder.id))
            except (ObjectNotFound, ValueError):
                run = None
            if run is not None and _waits_for_approval(run, ctx.env_name):
                return run
        paused = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                name=FlowRunFilterName(any_=[f"provision-environment[{ctx.env_name}]"]),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])),
            )
        )
    found = [r for r in paused if _waits_for_approval(r, ctx.env_name) and _same_lock(r, name)]
    if len(found) != 1:
        raise NoPausedRunError(
            f"no run of environment {ctx.env_name!r} of platform {ctx.platform.name!r} is "
            "waiting for approval"
            if not found
            else f"{len(found)} runs of environment {ctx.env_name!r} wait for approval: "
            + ", ".join(f"{r.name} ({r.id})" for r in found)
            + "; answer one in the Prefect UI"
        )
    return found[0]


def answer_approval(ctx: EnvContext, approve: bool, reason: str) -> FlowRun:
    """Resume the paused run of this environment with the answer, through the Prefect API as
    the UI does (the answer is the run's input; Prefect checks it against `Approval`)."""
    run = paused_approval(ctx)
    resume_flow_run(run.id, run_input=Approval(approve=approve, reason=reason).model_dump())
    return run
