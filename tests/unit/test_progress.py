"""The console's progress model (events → per-environment view state) and the mapping of the
runs' log records to its events, without a server."""

from __future__ import annotations

import logging

from mlplat_cli import console, progress
from mlplat_cli.progress import (
    PlainLines,
    PlanAgain,
    Progress,
    ResourceDone,
    RunFinished,
    RunStarted,
    TotalKnown,
    Transient,
    WaitEnded,
    WaitStarted,
)


def _applied(*events: progress.Event) -> Progress:
    model = Progress()
    for event in events:
        model.apply(event)
    return model


def test_an_environment_counts_resources_once_and_its_phase_only_moves_forward() -> None:
    model = _applied(
        TotalKnown("dev", 5),
        RunStarted("dev", 100.0),
        ResourceDone("dev", 101.0, "project mlp-dev", "create"),
        ResourceDone("dev", 102.0, "gke/cluster mlp-dev", "create"),
        ResourceDone("dev", 103.0, "git/branch dev", "noop"),  # a side branch: no step back
        ResourceDone("dev", 103.5, "git/branch dev", "noop"),  # seen again (a re-plan)
    )
    dev = model.envs["dev"]
    assert (dev.phase, dev.counted(), dev.changed) == ("cluster", "3/5", 2)
    model.apply(RunFinished("dev", 110.0, "Completed"))
    assert (dev.phase, dev.counted(), dev.wall()) == ("done", "3/3", 10.0)


def test_without_a_previous_summary_only_what_is_done_is_counted() -> None:
    model = _applied(ResourceDone("dev", 1.0, "project mlp-dev", "create"))
    assert model.envs["dev"].counted() == "1"
    more = _applied(
        TotalKnown("dev", 1),
        ResourceDone("dev", 1.0, "project mlp-dev", "noop"),
        ResourceDone("dev", 2.0, "compute/network mlp-dev-vpc", "create"),
    )
    assert more.envs["dev"].counted() == "2/2", "never fewer in all than done"


def test_waits_are_shown_longest_first_and_end_with_their_resource() -> None:
    model = _applied(
        WaitStarted("dev", 10.0, "gke/cluster mlp-dev: create"),
        WaitStarted("dev", 12.0, "gke/node-pool gpu: RUNNING"),
    )
    dev = model.envs["dev"]
    assert dev.longest_wait() == ("gke/cluster mlp-dev: create", 10.0)
    assert dev.phase == "cluster"
    model.apply(ResourceDone("dev", 20.0, "gke/cluster mlp-dev", "create"))  # no WaitEnded
    assert dev.longest_wait() == ("gke/node-pool gpu: RUNNING", 12.0)
    model.apply(WaitEnded("dev", 21.0, "gke/node-pool gpu: RUNNING"))
    assert dev.longest_wait() is None
    rows = progress.table_rows(model, 30.0)
    assert rows == [("dev", "cluster", "1", "", "20.0 s")]


def test_transient_answers_are_counted_per_environment_and_in_all() -> None:
    model = _applied(
        Transient("dev", 1.0),
        Transient("dev", 2.0),
        Transient("prod", 3.0),
        Transient(None, 4.0),
        RunStarted("dev", 0.0),
        RunFinished("dev", 65.0, "Completed"),
    )
    assert model.transient == 4
    lines = progress.summary_lines(model)
    assert lines[0].startswith("4 transient answers retried (dev 2, prod 1)")
    assert lines[-1] == "Wall time: dev 1 min 05 s", "the summary ends with the wall times"


def test_a_plan_again_after_approval_starts_the_count_over() -> None:
    model = _applied(
        ResourceDone("prod", 1.0, "project mlp-prod", "create"),
        WaitStarted("prod", 2.0, "approval"),
        PlanAgain("prod", 5.0),
    )
    assert (model.envs["prod"].counted(), model.envs["prod"].changed) == ("0", 0)


def test_plain_lines_say_each_phase_with_changes_and_long_waits_never_twice() -> None:
    plain = PlainLines(every=15.0)
    model = _applied(TotalKnown("dev", 4), TotalKnown("prod", 4))
    assert plain.lines(model, 0.0) == []
    model.apply(ResourceDone("dev", 1.0, "project mlp-dev", "create"))
    model.apply(ResourceDone("prod", 1.0, "project mlp-prod", "noop"))  # nothing changed
    assert plain.lines(model, 1.0) == ["dev: project — 1/4 resources, 1 changed"]
    assert plain.lines(model, 1.5) == []
    model.apply(WaitStarted("dev", 2.0, "gke/cluster mlp-dev: create"))
    assert plain.lines(model, 10.0) == []  # a short wait is no news
    assert plain.lines(model, 17.0) == [
        "dev: waiting on gke/cluster mlp-dev: create for 15.0 s — cluster, 1/4 resources"
    ]
    assert plain.lines(model, 20.0) == []
    assert plain.lines(model, 33.0) == [
        "dev: waiting on gke/cluster mlp-dev: create for 31.0 s — cluster, 1/4 resources"
    ]
    model.apply(ResourceDone("dev", 40.0, "gke/cluster mlp-dev", "create"))
    assert plain.lines(model, 40.0) == ["dev: cluster — 2/4 resources, 2 changed"]
    model.apply(RunFinished("dev", 41.0, "Completed"))
    assert plain.lines(model, 60.0) == []


def test_a_converged_run_prints_no_progress_line() -> None:
    plain = PlainLines(every=15.0)
    model = Progress()
    printed = []
    for at, resource in enumerate(["project p", "compute/network v", "gke/cluster c", "gate/x y"]):
        model.apply(ResourceDone("dev", float(at), resource, "noop"))
        printed += plain.lines(model, float(at))
    model.apply(RunFinished("dev", 5.0, "Completed"))
    assert printed + plain.lines(model, 6.0) == []


def _record(name: str, message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


def test_log_records_of_an_environments_run_become_its_events() -> None:
    run = {"flow_run_name": "provision-environment[dev]"}
    assert console.env_of(_record("prefect.flow_runs", "x", **run)) == "dev"
    assert console.env_of(_record("prefect.flow_runs", "x", flow_run_name="crazy-cat")) is None
    task = {**run, "task_run_name": "ensure-cluster[dev]"}
    line = "gke/cluster mlp-dev: update (1 field: a) — GKE 1.33"
    [done] = console.events_of(_record("prefect.task_runs", line, **task), "dev")
    assert done == ResourceDone("dev", done.at, "gke/cluster mlp-dev", "update")
    assert console.events_of(_record("prefect.task_runs", "access/vision: 4/4 checks"), "dev") == []
    [started] = console.events_of(_record("prefect.flow_runs", "Beginning subflow run"), "dev")
    assert isinstance(started, RunStarted)
    finished = console.events_of(_record("prefect.flow_runs", "Finished in state Failed('x')"), "d")
    assert [(type(e), e.state) for e in finished if isinstance(e, RunFinished)] == [
        (RunFinished, "Failed")
    ]
    [wait] = console.events_of(_record("mlplat.wait", "%s: waiting", "gate/rootsync x: ok"), "d")
    assert wait == WaitStarted("d", wait.at, "gate/rootsync x: ok")
    [over] = console.events_of(_record("mlplat.wait", "%s: waited %.1fs", "gate/x", 2.0), "d")
    assert over == WaitEnded("d", over.at, "gate/x")
    [retry] = console.events_of(_record("mlplat.retry", "retry %d", 1), None)
    assert retry == Transient(None, retry.at)
    lock = "waiting for lock mlplat-mlp-dev-1: environment 'dev' is being changed by ..."
    [locked] = console.events_of(_record("prefect.flow_runs", lock), "dev")
    assert locked == WaitStarted("dev", locked.at, "lock mlplat-mlp-dev-1")


def test_expected_library_warnings_are_demoted_to_debug() -> None:
    undo = console.set_levels()
    try:
        record = logging.LogRecord(
            "googleapiclient.http", logging.WARNING, __file__, 1, "Encountered %d", (403,), None
        )
        record.msg = 'Encountered 403 Forbidden with reason "accessNotConfigured"'
        record.args = ()
        logging.getLogger("googleapiclient.http").filter(record)
        assert record.levelno == logging.DEBUG
        other = logging.LogRecord(
            "googleapiclient.http", logging.WARNING, __file__, 1, "something else", (), None
        )
        logging.getLogger("googleapiclient.http").filter(other)
        assert other.levelno == logging.WARNING
        assert logging.getLogger("mlplat.retry").getEffectiveLevel() == logging.DEBUG
    finally:
        undo()


def test_warnings_and_errors_are_printed_once_without_their_traceback() -> None:
    shown: list[str] = []
    watch = console._Watch(shown=shown.append)
    run = {"flow_run_name": "provision-environment[prod]"}
    lock = "waiting for lock L: environment 'prod' is being changed by flow run 'x'"
    for _ in range(2):
        record = _record("prefect.flow_runs", lock, **run)
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        watch.handle(record)
    failed = _record("prefect.flow_runs", "Finished in state Failed('boom')\nTraceback ...", **run)
    failed.levelno = logging.ERROR
    watch.handle(failed)
    watch.handle(_record("mlplat.retry", "retry %d in %.1fs after %s", 1, 0.2, "HTTP 503", **run))
    assert shown == [f"prod: {lock}", "error: prod: Finished in state Failed('boom')"]
    prod = watch.model.envs["prod"]
    assert (prod.transient, prod.phase, prod.longest_wait()) == (1, "failed", None)
