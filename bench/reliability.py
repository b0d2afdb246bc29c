"""Benchmark: the reliability figures of issue 22, measured again on every run. Each scenario
counts runs tried, runs converged and duplicates, the time to converge, and whether a
fault-free re-run made no write:

1. faults: provisioning under 10–30 % injected 429/500/503/504 on every method of every API,
   and one failed long-running operation per creating method (cluster create included);
   afterwards the platform, listed through every API, must equal a clean run's;
2. kills: the flow process SIGKILLed at chosen points (tests/reliability/killer.py's), then
   a next run that must converge with no second create;
3. restart: the Prefect server SIGKILLed mid-run (while a cluster create is in flight) and
   started again on the same port and database; the next run must start within
   --lock-timeout and converge (how long it waited for its lock is the figure);
4. concurrent: two `mlplat up --env dev` started at once on a fresh state directory: both
   converge, one sandbox and one Prefect server are left, `mlplat stop` stops them, and no
   write of one run falls while the other holds the environment.

    python -m bench.reliability [--scenarios faults,kills,restart,concurrent] [--fault-runs 2]
        [--rates 0.1,0.3] [--kill-points after-subnet,cluster-create,team-git-creds]
        [--restarts 1] [--concurrent-runs 1] [--lock-timeout 120] [--grace 60] [--out DIR]

The spec is the reference's dev environment (1 environment × 2 teams) on sandboxes in instant
latency (the one operation a kill or restart point starts runs a few seconds). Scenarios 1–3
run the sandbox in this process (its request log counts every write) against a temporary
`prefect server` (a process, so that it can be killed and restarted); scenario 4 runs the
`mlplat` command as a user does, which starts its own services. The machinery is the
reliability suite's (tests/reliability/). Results: OUT/latest.json and OUT/latest.md."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.provision import ROOT, write_results
from sandbox.cloud import Sandbox
from tests.e2e.prefect_stack import Prefect, Stack, clean_env, stack, start_prefect_server
from tests.flows.conftest import REFERENCE, admin
from tests.reliability.faults import FAILING_OPERATIONS, Soak, faults
from tests.reliability.faults import provision as provision_envs
from tests.reliability.inventory import differences, inventory
from tests.reliability.killer import (
    BOUNDARIES,
    IN_FLIGHT,
    OPERATIONS,
    Point,
    arm,
    held_slots,
    is_create,
    kill_at,
    start_flow,
    tripped,
    unexpected,
)
from tests.reliability.writes import (
    CleanRun,
    Writes,
    clean_run,
    fresh_sandbox,
    provision,
    writes_of,
)

ENV = "dev"
RUN_NAME = f"provision-environment[{ENV}]"
CODES = (429, 500, 503, 504)
KILL_POINTS = "after-subnet,cluster-create,team-git-creds"  # before the cluster, mid, mid teams
RESTART_POINT = Point(
    "prefect-restart", "container.projects.locations.clusters.create", in_flight=IN_FLIGHT
)
# What a run's log says about its environment's lock (flows/_locks/).
WAITING = "waiting for lock"
FIRST_TASK = "Task run '"  # provision_environment starts its tasks once it holds the lock
# "acquired L after 12.3s: waited for another run ..." or "acquired L in 15 ms (it was free)"
ACQUIRED = re.compile(r"acquired \S+ (?:after ([\d.]+)s|in ([\d.]+) ms)")
RUN_TIMEOUT = 300.0  # seconds a run may take once it holds its lock
CLI_TIMEOUT = 420.0


@dataclass
class Scenario:
    """One scenario's figures: what the table shows, and each run's details."""

    name: str
    tried: int = 0
    converged: int = 0
    duplicates: int = 0
    converge_s: list[float] = field(default_factory=list)
    reruns_clean: int = 0  # fault-free re-runs that made no write
    reruns: int = 0
    figures: list[str] = field(default_factory=list)  # what else it measured, in words
    runs: list[dict[str, Any]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.name}: tried {self.tried}, converged {self.converged}, "
            f"duplicates {self.duplicates}"
        )


# -- runs in a child process -----------------------------------------------------------------


@dataclass
class Outcome:
    """A provisioning run in a child process, as it ended."""

    converged: bool
    seconds: float
    lock_wait_s: float | None  # None: it never got the lock
    ended: str  # how it ended, in words
    lock_held_s: float | None = None  # seconds from its start until it held the lock


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the run's process group (start_flow gives it its own session)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def lock_wait(output: str, converged: bool) -> float | None:
    """How long the run waited for its environment's lock, from the figure its log gives."""
    found = ACQUIRED.search(output)
    if found:
        waited, free_ms = found.groups()
        return float(waited) if waited is not None else float(free_ms) / 1000
    return 0.0 if converged or WAITING not in output else None


def next_run(sandbox: Sandbox, log: Path, api_url: str, lock_timeout: float) -> Outcome:
    """provision_environment of dev in a child process; stopped (not converged) when it
    waits more than `lock_timeout` for its lock, or runs RUN_TIMEOUT past that."""
    started = time.monotonic()
    process = start_flow(sandbox, REFERENCE, log, api_url)
    ended = ""
    held: float | None = None
    while process.poll() is None:
        elapsed = time.monotonic() - started
        output = log.read_text(errors="replace")
        if held is None and (ACQUIRED.search(output) or FIRST_TASK in output):
            held = round(elapsed, 1)  # (to the half second this polls at)
        if WAITING in output and not ACQUIRED.search(output) and elapsed > lock_timeout:
            ended = f"stopped: still waiting for its lock after {elapsed:.0f} s"
        elif elapsed > lock_timeout + RUN_TIMEOUT:
            ended = f"stopped: not finished after {elapsed:.0f} s"
        if ended:
            _stop(process)
            break
        time.sleep(0.5)
    seconds = time.monotonic() - started
    output = log.read_text(errors="replace")
    converged = not ended and process.returncode == 0
    ended = ended or f"exit {process.returncode}"
    waited = lock_wait(output, converged)
    if waited is None and "still waiting" in ended:
        waited = round(seconds, 1)
    return Outcome(converged, round(seconds, 1), waited, ended, held)


def rerun_writes(sandbox: Sandbox) -> int:
    """A fault-free re-run of dev in this process: the writes it made."""
    admin(sandbox, "PUT", "/faults", {"rules": []})
    mark = len(sandbox.rt.counters.requests())
    state = provision(sandbox.endpoints_path)
    if not state.is_completed():
        return -1
    return writes_of(sandbox.rt.counters.requests()[mark:]).total


def duplicate_creates(
    point: Point, killed: Writes, both: Writes, clean: Writes
) -> tuple[int, dict[str, tuple[int, int]]]:
    """Creates served more often by the killed and the next run together than by one clean
    run, and every method written another number of times (killer.unexpected)."""
    diff = unexpected(point, killed, both.served, clean.served)
    extra = sum(got - want for m, (got, want) in diff.items() if is_create(m) and got > want)
    return extra, diff


def settle(
    result: Scenario,
    detail: dict[str, Any],
    after: Outcome,
    *,
    sandbox: Sandbox,
    point: Point,
    killed: Writes,
    clean: CleanRun,
) -> None:
    """Count the next run after an interrupted one: converged, its duplicates, its re-run."""
    detail.update(asdict(after))
    if not after.converged:
        return
    both = writes_of(sandbox.rt.counters.requests())
    dups, diff = duplicate_creates(point, killed, both, clean.writes)
    detail.update(duplicates=dups, other_differences=diff)
    result.duplicates += dups
    result.converged += 1
    result.converge_s.append(after.seconds)
    detail["rerun_writes"] = rerun_writes(sandbox)
    result.reruns += 1
    result.reruns_clean += detail["rerun_writes"] == 0


# -- 1. injected faults ---------------------------------------------------------------------


def faults_scenario(runs: int, rates: list[float], clean: CleanRun, work: Path) -> Scenario:
    """`runs` provisioning runs of dev under faults, each on a fresh sandbox, in this process."""
    result = Scenario("injected faults")
    for i in range(runs):
        soak = Soak(300 + i, rates[i % len(rates)])
        detail: dict[str, Any] = {"run": str(soak)}
        result.tried += 1
        with fresh_sandbox(work / f"faults-{i}") as sandbox:
            admin(sandbox, "PUT", "/faults", faults(soak, CODES))
            started = time.monotonic()
            try:
                provision_envs(sandbox, (ENV,))
                detail["converged"] = True
            except Exception as exc:  # a run that fails is a figure, not a crash
                detail.update(converged=False, error=str(exc)[:300])
            detail["seconds"] = round(time.monotonic() - started, 1)
            counters = admin(sandbox, "GET", "/counters")
            admin(sandbox, "PUT", "/faults", {"rules": []})
            log = sandbox.rt.counters.requests()
            detail["faults_served"] = sum(1 for r in log if r["fault"])  # injected error answers
            detail["failed_operations"] = len(FAILING_OPERATIONS)  # each set to fail once
            detail["requests"] = counters["reads"] + counters["writes"]
            if detail["converged"]:
                found = differences(inventory(sandbox), clean.inventory)
                detail["differences"] = found[:20]
                result.duplicates += len(found)
                if not found:
                    result.converged += 1
                    result.converge_s.append(detail["seconds"])
                    detail["rerun_writes"] = rerun_writes(sandbox)
                    result.reruns += 1
                    result.reruns_clean += detail["rerun_writes"] == 0
        result.runs.append(detail)
        print(json.dumps(detail), flush=True)
    served = [f"{r['faults_served']} of {r['requests']}" for r in result.runs]
    result.figures.append(
        f"injected error answers {', '.join(served)} requests, and "
        f"{len(FAILING_OPERATIONS)} operations that failed once each"
    )
    return result


# -- 2. kills at points ---------------------------------------------------------------------


def kills_scenario(
    points: list[Point], clean: CleanRun, api_url: str, lock_timeout: float, work: Path
) -> Scenario:
    """Per point: a run killed there (SIGKILL), then a next run in a fresh process, which
    waits for the dead run's slot as it must (nothing gives it back by hand)."""
    result = Scenario("kills (SIGKILL)")
    for point in points:
        result.tried += 1
        directory = work / f"kill-{point.name}"
        with fresh_sandbox(directory / "sandbox") as sandbox:
            wire = arm(sandbox, point)
            log = directory / "killed-run.log"
            kill_at(start_flow(sandbox, REFERENCE, log, api_url), wire, log)
            time.sleep(0.5)  # answers to the dead process's last requests are recorded
            killed = writes_of(wire.requests())
            after = next_run(sandbox, directory / "next-run.log", api_url, lock_timeout)
            detail: dict[str, Any] = {"point": point.name}
            settle(result, detail, after, sandbox=sandbox, point=point, killed=killed, clean=clean)
        result.runs.append(detail)
        print(json.dumps(detail), flush=True)
    result.figures += [
        f"{r['point']}: the next run, started at the kill, waited {_seconds(r['lock_wait_s'])} "
        f"s for the lock and held it {_seconds(r['lock_held_s'])} s after it started"
        for r in result.runs
    ]
    return result


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:g}"


# -- 3. a Prefect server restart -----------------------------------------------------------


@dataclass
class Server:
    """The temporary Prefect server the flows report to, restartable on its port and database."""

    services: Stack
    directory: Path  # its PREFECT_HOME and logs are under here
    env: dict[str, str]
    prefect: Prefect

    @classmethod
    def start(cls, services: Stack, directory: Path) -> Server:
        env = clean_env(directory / "home")
        return cls(services, directory, env, start_prefect_server(services, directory, env))

    @property
    def api_url(self) -> str:
        return self.prefect.api_url

    def crash(self) -> None:
        """SIGKILL the server and everything it started."""
        assert self.prefect.server is not None
        self.prefect.server.kill()

    def restart(self) -> None:
        """Start it again on the same port and database."""
        port = int(self.api_url.rsplit(":", 1)[1].split("/")[0])
        self.prefect = start_prefect_server(self.services, self.directory, self.env, port=port)


def restart_scenario(
    restarts: int, clean: CleanRun, server: Server, work: Path, *, lock_timeout: float, grace: float
) -> Scenario:
    """Per restart: a run whose Prefect server is killed while its cluster create is in
    flight and started again; the run is given `grace` seconds to end by itself (then killed),
    and a next run must get the lock within `lock_timeout` and converge."""
    result = Scenario("Prefect server restart")
    for i in range(restarts):
        result.tried += 1
        directory = work / f"restart-{i}"
        detail: dict[str, Any] = {"restart": i}
        with fresh_sandbox(directory / "sandbox") as sandbox:
            wire = arm(sandbox, RESTART_POINT)
            log = directory / "first-run.log"
            first = start_flow(sandbox, REFERENCE, log, server.api_url)
            try:
                tripped(first, wire, log)
                server.crash()
            finally:
                wire.release()  # the run goes on, its Prefect server gone
            down = time.monotonic()
            server.restart()
            restarted = time.monotonic()
            detail["restart_s"] = round(restarted - down, 1)
            detail["slots_held_after_restart"] = _held(sandbox)
            try:
                first.wait(timeout=grace)
                took = time.monotonic() - restarted
                detail["first_run"] = f"exit {first.returncode} {took:.0f} s after the restart"
            except subprocess.TimeoutExpired:
                _stop(first)
                detail["first_run"] = f"still running {grace:.0f} s after the restart: killed"
            time.sleep(0.5)
            killed = writes_of(wire.requests())
            after = next_run(sandbox, directory / "next-run.log", server.api_url, lock_timeout)
            settle(
                result,
                detail,
                after,
                sandbox=sandbox,
                point=RESTART_POINT,
                killed=killed,
                clean=clean,
            )
            detail["slots_held_at_end"] = _held(sandbox)
        result.runs.append(detail)
        print(json.dumps(detail), flush=True)
    for r in result.runs:
        result.figures.append(
            f"slot held after the restart: {r['slots_held_after_restart']}; first run: "
            f"{r['first_run']}; next run's lock wait {_seconds(r['lock_wait_s'])} s "
            f"({r['ended']})"
        )
    return result


def _held(sandbox: Sandbox) -> int | str:
    try:
        return held_slots(sandbox, ENV)
    except Exception as exc:  # the figure says why it could not be read
        return f"unreadable ({type(exc).__name__})"


# -- 4. concurrent starts -------------------------------------------------------------------


def _mlplat(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`mlplat ARGS` as a user runs it, in its own session, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mlplat_cli.main", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _finish(process: subprocess.Popen[bytes], deadline: float) -> str:
    try:
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _stop(process)
        return "stopped: not finished in time"
    return f"exit {process.returncode}"


def running_services(state: Path, prefect_home: Path) -> dict[str, list[int]]:
    """The sandboxes serving `state` and the Prefect servers of `prefect_home` running now
    (a server's own children not counted apart), by /proc."""
    found: dict[str, list[int]] = {"sandbox": [], "prefect": []}
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = [
                a.decode(errors="replace") for a in (entry / "cmdline").read_bytes().split(b"\0")
            ]
            environ = (entry / "environ").read_bytes().split(b"\0")
            parents[int(entry.name)] = int(
                (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            )
        except (OSError, ValueError):
            continue
        if "serve" in args and "--state-dir" in args:
            if args[args.index("--state-dir") + 1] == str(state):
                found["sandbox"].append(int(entry.name))
        elif f"PREFECT_HOME={prefect_home}".encode() in environ and "server" in " ".join(args):
            found["prefect"].append(int(entry.name))
    servers = set(found["prefect"])
    found["prefect"] = [pid for pid in found["prefect"] if parents.get(pid) not in servers]
    return found


def lock_windows(url: str) -> list[tuple[float, float]]:
    """When each dev run held its lock, by the Prefect server at `url`: from its last
    "acquiring"/"acquired" log line to its end."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        FlowRunFilter,
        FlowRunFilterName,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import LogSort  # noqa: PLC0415
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    windows = []
    with temporary_settings({PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        named = FlowRunFilter(name=FlowRunFilterName(any_=[RUN_NAME]))
        for run in client.read_flow_runs(flow_run_filter=named):
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])),
                sort=LogSort.TIMESTAMP_ASC,
            )
            held = [log.timestamp for log in logs if log.message.startswith(("acquir",))]
            start = held[-1] if held else run.start_time
            end = run.end_time or datetime.now(start.tzinfo if start else None)
            if start is not None:
                windows.append((start.timestamp(), end.timestamp()))
    return sorted(windows)


def concurrent_scenario(runs: int, clean: CleanRun, work: Path) -> Scenario:
    """Per round: two `mlplat up --env dev` at once on a fresh state directory and Prefect
    home; what they leave running, before and after `mlplat stop`."""
    from bench.provision import admin as admin_at  # noqa: PLC0415

    result = Scenario("concurrent mlplat up")
    for i in range(runs):
        directory = work / f"concurrent-{i}"
        state, home = directory / "state", directory / "prefect-home"
        env = {
            **clean_env(directory / "home"),
            "MLPLAT_SANDBOX_STATE_DIR": str(state),
            "PREFECT_HOME": str(home),
        }
        result.tried += 2
        started = time.monotonic()
        logs = [directory / f"up-{n}.log" for n in (1, 2)]
        processes = [_mlplat(["up", "--env", ENV], env, log) for log in logs]
        deadline = started + CLI_TIMEOUT
        ends = [_finish(process, deadline) for process in processes]
        seconds = round(time.monotonic() - started, 1)
        outputs = [log.read_text(errors="replace") for log in logs]
        ok = [end == "exit 0" for end in ends]
        detail: dict[str, Any] = {"round": i, "ends": ends, "seconds": seconds}
        detail["left_running"] = {k: len(v) for k, v in running_services(state, home).items()}
        urls = sorted({m for out in outputs for m in re.findall(r"^prefect: (\S+) ", out, re.M)})
        detail["prefect_urls"] = urls
        endpoints = state / "endpoints.json"
        try:
            requests = admin_at(endpoints, "GET", "/requests")["requests"]
            offset = admin_at(endpoints, "GET", "/clock")["offset"]
        except (OSError, KeyError, ValueError) as exc:
            requests, offset = [], 0.0
            detail["sandbox"] = f"unreadable: {exc}"
        detail["request_log_complete"] = len(requests) < 2000
        served = writes_of([r for r in requests if "/admin/" not in r["method"]]).served
        dups = sum(max(0, n - clean.writes.served[m]) for m, n in served.items() if is_create(m))
        detail["duplicates"] = dups
        mutations = [
            r["time"] - offset
            for r in requests
            if r["method"] and not r["read"] and r["status"] < 400
        ]
        windows = [w for url in urls for w in _windows_or_none(url, detail)]
        detail["lock_windows"] = [[round(a, 2), round(b, 2)] for a, b in windows]
        if len(windows) >= 2:
            (a0, a1), (b0, b1) = windows[0], windows[1]
            detail["interleaved_writes"] = sum(max(a0, b0) <= t <= min(a1, b1) for t in mutations)
            detail["writes_of_second_run"] = sum(t >= b0 for t in mutations)
        result.duplicates += dups
        result.converged += sum(ok)
        if all(ok):
            result.converge_s.append(seconds)
            rerun = _mlplat(["up", "--env", ENV], env, directory / "rerun.log")
            admin_at(endpoints, "POST", "/counters/reset")
            end = _finish(rerun, time.monotonic() + CLI_TIMEOUT)
            counted = admin_at(endpoints, "GET", "/counters")
            detail["rerun_writes"] = counted["writes"] if end == "exit 0" else -1
            result.reruns += 1
            result.reruns_clean += detail["rerun_writes"] == 0
        stop = _mlplat(["stop"], env, directory / "stop.log")
        _finish(stop, time.monotonic() + 120)
        time.sleep(1)
        left = running_services(state, home)
        detail["left_after_stop"] = {k: len(v) for k, v in left.items()}
        for pid in left["sandbox"] + left["prefect"]:  # ours: our state dir, our Prefect home
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        detail["tails"] = [out[-1500:] for out, good in zip(outputs, ok, strict=True) if not good]
        result.runs.append(detail)
        print(json.dumps(detail), flush=True)
    for r in result.runs:
        left, stopped = r["left_running"], r["left_after_stop"]
        result.figures.append(
            f"left running: {left['sandbox']} sandbox(es), {left['prefect']} Prefect "
            f"server(s); after `mlplat stop`: {stopped['sandbox']} and {stopped['prefect']}; "
            f"interleaved writes {r.get('interleaved_writes', 'unknown')}, writes of the "
            f"second run {r.get('writes_of_second_run', 'unknown')}"
        )
    return result


def _windows_or_none(url: str, detail: dict[str, Any]) -> list[tuple[float, float]]:
    try:
        return lock_windows(url)
    except Exception as exc:  # a server that is gone: its runs cannot be read
        detail.setdefault("unreadable_servers", []).append(f"{url}: {type(exc).__name__}")
        return []


# -- the table ------------------------------------------------------------------------------


def markdown(results: list[Scenario], options: str) -> str:
    lines = [
        f"Reliability, reference spec's dev (1 environment × 2 teams), sandbox in instant "
        f"latency; {options}.",
        "",
        "| scenario | tried | converged | duplicates | time to converge s (median, max) "
        "| fault-free re-run with 0 writes | what else it measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        times = (
            f"{statistics.median(r.converge_s):g}, {max(r.converge_s):g}" if r.converge_s else "—"
        )
        lines.append(
            f"| {r.name} | {r.tried} | {r.converged} | {r.duplicates} | {times} | "
            f"{r.reruns_clean} of {r.reruns} | {'; '.join(r.figures)} |"
        )
    lines += ["", *(f"- {r.line()}" for r in results)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", default="faults,kills,restart,concurrent")
    parser.add_argument("--fault-runs", type=int, default=2)
    parser.add_argument("--rates", default="0.1,0.3", help="fault rates, used in turn")
    parser.add_argument(
        "--kill-points",
        default=KILL_POINTS,
        help="names of tests/reliability/killer.py's points (BOUNDARIES, OPERATIONS)",
    )
    parser.add_argument("--restarts", type=int, default=1)
    parser.add_argument("--concurrent-runs", type=int, default=1, help="rounds of two")
    parser.add_argument(
        "--lock-timeout",
        type=float,
        default=120.0,
        help="seconds a next run may wait for its lock before it counts as not converged",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=60.0,
        help="seconds a run may take to end by itself after its Prefect server restarted",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "reliability")
    args = parser.parse_args(argv)
    chosen = args.scenarios.split(",")
    unknown = set(chosen) - {"faults", "kills", "restart", "concurrent"}
    if unknown:
        parser.error(f"--scenarios: unknown {sorted(unknown)}")
    by_name = {p.name: p for p in BOUNDARIES + OPERATIONS}
    points = [by_name[n] for n in args.kill_points.split(",") if n]
    results = run(chosen, args, points)
    described = {
        "faults": f"{args.fault_runs} fault run(s) at rates {args.rates}",
        "kills": f"kills at {args.kill_points}",
        "restart": f"{args.restarts} restart(s), the run given {args.grace:g} s to end",
        "concurrent": f"{args.concurrent_runs} round(s) of two concurrent starts",
    }
    options = ", ".join(described[c] for c in chosen)
    options += f"; a next run may wait {args.lock_timeout:g} s for its lock"
    table = markdown(results, options)
    write_results(args.out, "latest", [asdict(r) for r in results], table)
    return 0


def run(chosen: list[str], args: argparse.Namespace, points: list[Point]) -> list[Scenario]:
    """The chosen scenarios, against one temporary Prefect server (a process)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings  # noqa: PLC0415

    results = []
    with tempfile.TemporaryDirectory(prefix="mlplat-reliability-") as tmp, stack() as services:
        work = Path(tmp)
        server = Server.start(services, work / "prefect")
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            clean = clean_run(work / "clean", listed="faults" in chosen)
            if "faults" in chosen:
                rates = [float(r) for r in args.rates.split(",")]
                results.append(faults_scenario(args.fault_runs, rates, clean, work))
            if "kills" in chosen:
                results.append(
                    kills_scenario(points, clean, server.api_url, args.lock_timeout, work)
                )
            if "restart" in chosen:
                results.append(
                    restart_scenario(
                        args.restarts,
                        clean,
                        server,
                        work,
                        lock_timeout=args.lock_timeout,
                        grace=args.grace,
                    )
                )
        if "concurrent" in chosen:
            results.append(concurrent_scenario(args.concurrent_runs, clean, work))
    return results


if __name__ == "__main__":
    sys.exit(main())
