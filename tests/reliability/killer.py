"""Killing a flow process at a chosen call, deterministically.

The sandbox runs in the test process; the flow runs in a child process (its own session, so
SIGKILL reaches everything it started). A `Tripwire` replaces the sandbox's call counters: when
the chosen request has been served (the write done, the operation started) it holds the answer,
the test kills the process group, and only then lets the answer go, to a dead socket. So the
kill lands at exactly one point: after that call took effect, before the flow learnt anything
from it (the flow keeps no state of its own, so this is what any later kill leaves behind too).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.settings import PREFECT_API_URL

from flows._locks import lock_name
from flows.provision_environment import context
from sandbox.cloud import Sandbox
from sandbox.counters import Counters, RequestRecord
from sandbox.operations import Operations, Record
from tests.reliability.writes import LOG_SIZE, Writes

RUN = (
    "import json, sys; from flows.provision_environment import provision_environment; "
    "print(json.dumps(provision_environment(sys.argv[1], spec_dir=sys.argv[2], "
    "endpoints=sys.argv[3])))"
)
ROOT = Path(__file__).resolve().parents[2]
HOLD_SECONDS = 60.0  # a tripped request waits at most this long for the kill


@dataclass(frozen=True)
class Point:
    """Where to kill: when the `nth` request of sandbox method `method` (whose path contains
    one of `paths`) has been served. A step boundary trips on the first call of the next step
    (a read: the step before is finished, the next has changed nothing); a mid-operation point
    trips on the call that starts the work, whose operation then runs `in_flight` seconds, so
    that the next run meets it unfinished."""

    name: str
    method: str
    nth: int = 1
    paths: tuple[str, ...] = ("",)
    in_flight: float = 0.0

    def matches(self, record: RequestRecord) -> bool:
        return record.method == self.method and any(p in record.path for p in self.paths)


# The points of provision_environment (tests/reliability/test_crash_resume.py kills at each).
IN_FLIGHT = 6.0  # seconds the killed run's operation still runs: the next run meets it unfinished
_TEAM_ACCOUNTS = ("-dev-nlp@", "-dev-vision@")
_COMMIT = "github.POST /repos/{owner}/{repo}/git/commits"
_PUSH = "github.PATCH /repos/{owner}/{repo}/git/refs/{ref+}"

# Step boundaries: the first call of the next step (the steps before it are finished).
BOUNDARIES = [
    Point("after-project", "cloudbilling.projects.getBillingInfo"),
    Point("after-billing", "serviceusage.services.list"),
    Point("after-apis", "compute.networks.get"),
    Point("after-network", "compute.subnetworks.get"),
    Point("after-subnet", "container.projects.locations.clusters.get"),
    Point("after-cluster", "container.projects.locations.clusters.nodePools.get"),
    Point("after-fleet", "k8s.get.version"),
    Point("after-cluster-software", "iam.projects.serviceAccounts.get", paths=_TEAM_ACCOUNTS),
]
# Mid-operation: right after the call that starts the work (its operation then runs IN_FLIGHT).
OPERATIONS = [
    Point("project-create", "cloudresourcemanager.projects.create", in_flight=IN_FLIGHT),
    Point("billing-link", "cloudbilling.projects.updateBillingInfo"),
    Point("apis-enable", "serviceusage.services.batchEnable", in_flight=IN_FLIGHT),
    Point("node-account-create", "iam.projects.serviceAccounts.create"),
    Point("project-iam-policy", "cloudresourcemanager.projects.setIamPolicy"),
    Point("network-create", "compute.networks.insert", in_flight=IN_FLIGHT),
    Point("subnet-create", "compute.subnetworks.insert", in_flight=IN_FLIGHT),
    Point("router-create", "compute.routers.insert", in_flight=IN_FLIGHT),
    Point("reservation-create", "compute.reservations.insert", in_flight=IN_FLIGHT),
    Point("feature-create", "gkehub.projects.locations.features.create", in_flight=IN_FLIGHT),
    Point("repo-create", "github.POST /orgs/{org}/repos"),
    Point("branch-create", "github.POST /repos/{owner}/{repo}/git/refs"),
    Point("commit-create", _COMMIT),
    Point("branch-push", _PUSH),
    Point("cluster-create", "container.projects.locations.clusters.create", in_flight=IN_FLIGHT),
    Point(
        "node-pool-create",
        "container.projects.locations.clusters.nodePools.create",
        in_flight=IN_FLIGHT,
    ),
    Point("membership-create", "gkehub.projects.locations.memberships.create", in_flight=IN_FLIGHT),
    Point("config-management", "gkehub.projects.locations.features.patch", in_flight=IN_FLIGHT),
    Point("git-creds", "k8s.patch.secrets"),
    Point("root-sync-wait", "k8s.get.rootsyncs"),
    Point("team-account-create", "iam.projects.serviceAccounts.create", nth=2),
    Point("workload-identity-binding", "iam.projects.serviceAccounts.setIamPolicy"),
    Point("team-git-creds", "k8s.patch.secrets", nth=2),
    Point("team-sync-wait", "k8s.get.reposyncs"),
    Point("access-check", "k8s.create.subjectaccessreviews"),
]
# Refused writes that only mean "already started": Resource Manager lists no operations and
# shows no project until its create is done, so a resumed run learns of the killed run's
# create from the 409 it gets, then waits for the project to appear as its own.
MAY_REFUSE = {"cloudresourcemanager.projects.create"}
# Git objects of a commit not yet on the branch: no API finds an unreferenced commit, so the
# next run writes its own (the branch moves once; the orphans are garbage, not resources).
_TREE = "github.POST /repos/{owner}/{repo}/git/trees"
_COMMIT_OBJECTS = (_TREE, _COMMIT)


def is_create(method: str) -> bool:
    return method.endswith((".create", ".insert")) or method.startswith(
        ("github.POST ", "k8s.create.")
    )


def unexpected(
    point: Point, killed: Writes, got: Counter[str], clean: Counter[str]
) -> dict[str, tuple[int, int]]:
    """Methods written a different number of times by the killed and the resumed run together
    than by one clean run: (together, clean). Nothing may be created twice. Allowed: an update
    the killed run left in flight, sent again (its effect is not visible until it is done, and
    the same change twice is harmless); and the git objects of a commit the killed run wrote
    but did not push (the gitops step runs beside others, so any point may cut it there)."""
    extra: Counter[str] = Counter()
    if point.in_flight and not is_create(point.method):
        extra[point.method] = 1
    if killed.served[_TREE] > killed.served[_PUSH]:
        extra.update(_COMMIT_OBJECTS)
    return {
        m: (got[m], clean[m])
        for m in sorted(set(got) | set(clean))
        if not clean[m] <= got[m] <= clean[m] + extra[m]
    }


class Tripwire(Counters):
    """The sandbox's counters, which also hold the answer to the point's request until
    `release()` (the test kills the flow process in between)."""

    def __init__(self, point: Point) -> None:
        super().__init__(log_size=LOG_SIZE)
        self.point = point
        self.tripped = threading.Event()
        self._released = threading.Event()
        self._seen = 0
        self._seen_lock = threading.Lock()

    def record(self, record: RequestRecord) -> None:
        super().record(record)
        if self.tripped.is_set() or not self.point.matches(record):
            return
        with self._seen_lock:
            self._seen += 1
            hit = self._seen == self.point.nth
        if hit:
            self.tripped.set()
            self._released.wait(HOLD_SECONDS)

    def release(self) -> None:
        self._released.set()


class SlowOperations(Operations):
    """The sandbox's operations, except that those started by `method` run `seconds` (the rest
    keep the latency model's durations: none in instant mode)."""

    def __init__(self, sandbox: Sandbox, method: str, seconds: float) -> None:
        super().__init__(sandbox.rt)
        self._method = method
        self._seconds = seconds

    def start(self, *, method: str, duration: float | None = None, **kwargs: Any) -> Record:
        if method == self._method:
            duration = self._seconds
        return super().start(method=method, duration=duration, **kwargs)


def arm(sandbox: Sandbox, point: Point) -> Tripwire:
    """Install the point's tripwire (and slow operation) in a running sandbox."""
    wire = Tripwire(point)
    sandbox.rt.counters = wire
    if point.in_flight:
        sandbox.rt.operations = SlowOperations(sandbox, point.method, point.in_flight)
    return wire


def in_flight(sandbox: Sandbox, method: str) -> bool:
    """Whether an operation that a call of Google API `method` started is still running."""
    api = method.split(".", 1)[0]
    return any(op["method"] == method and not op["done"] for op in sandbox.rt.operations.list(api))


def start_flow(
    sandbox: Sandbox, spec_dir: Path, log: Path, api_url: str = ""
) -> subprocess.Popen[bytes]:
    """provision_environment of `dev` in a child process, against the Prefect server at
    `api_url` (default: this session's)."""
    env = {**os.environ, "PREFECT_API_URL": api_url or str(PREFECT_API_URL.value())}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", RUN, "dev", str(spec_dir), str(sandbox.endpoints_path)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )


def tripped(
    process: subprocess.Popen[bytes], wire: Tripwire, log: Path, timeout: float = 240.0
) -> None:
    """Wait until the flow process has reached the tripwire's point (its answer held)."""
    deadline = time.monotonic() + timeout
    while not wire.tripped.wait(0.05):
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"the flow ended ({process.returncode}) before {wire.point.name}:\n{tail}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"{wire.point.name} never came")


def kill_at(
    process: subprocess.Popen[bytes], wire: Tripwire, log: Path, timeout: float = 240.0
) -> None:
    """Wait for the tripwire, SIGKILL the process group, then let the held answer go."""
    try:
        tripped(process, wire, log, timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have ended on its own
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        wire.release()


def _lock(sandbox: Sandbox, env_name: str) -> str:
    return lock_name(
        context(env_name, str(ROOT / "infra_specs"), False, str(sandbox.endpoints_path))
    )


def free_environment(sandbox: Sandbox, env_name: str = "dev") -> None:
    """Give back the killed run's environment slot at once, as an operator who saw the process
    die would (`prefect gcl update <lock> --active-slots 0`); left alone, the next run frees it
    within seconds once it finds the killed run's process dead (tests/flows/test_resume.py)."""
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(
            _lock(sandbox, env_name), GlobalConcurrencyLimitUpdate(active_slots=0)
        )


def held_slots(sandbox: Sandbox, env_name: str = "dev") -> int:
    """Slots of the environment's lock in use now."""
    with get_client(sync_client=True) as client:
        return int(
            client.read_global_concurrency_limit_by_name(_lock(sandbox, env_name)).active_slots
        )
