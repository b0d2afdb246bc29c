"""Crash-resume: the flow process is SIGKILLed at one point per test (every step boundary of
provision_environment, and right after the call that starts each long-running operation or
in-cluster write); the next run converges without a second create of anything, and a third run
changes nothing.

The kill is deterministic (tests/reliability/killer.py): the sandbox holds its answer to the
point's request until the process is dead. Latency is instant except for the operation the point
starts, which runs a few seconds, so the next run meets it in flight (the hard case: it must
find that operation, not start another). The next run starts at once: the test gives back the
killed run's environment slot (that the next run frees it itself, finding the killed process
dead, is tests/flows/test_resume.py's subject), which also means it meets the killed run's
work mid-way."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE
from tests.reliability.conftest import FULL
from tests.reliability.killer import (
    Point,
    arm,
    free_environment,
    held_slots,
    in_flight,
    kill_at,
    start_flow,
)
from tests.reliability.writes import Writes, clean_writes, provision, writes_of

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
CI_POINTS = ("project-create", "cluster-create", "after-fleet")
POINTS = [p for p in BOUNDARIES + OPERATIONS if FULL or p.name in CI_POINTS]


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> Writes:
    return clean_writes(tmp_path_factory.mktemp("clean") / "state")


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


@pytest.mark.timeout(300)
@pytest.mark.parametrize("point", POINTS, ids=lambda p: p.name)
def test_a_run_killed_at_a_point_resumes_without_a_second_create(
    point: Point, sandbox: Sandbox, tmp_path: Path, clean_run: Writes
) -> None:
    wire = arm(sandbox, point)
    log = tmp_path / "killed-run.log"
    kill_at(start_flow(sandbox, REFERENCE, log), wire, log)
    if point.in_flight:
        assert in_flight(sandbox, point.method), "the killed run's operation is already done"
    free_environment(sandbox)
    time.sleep(0.5)  # answers to the dead process's last requests are recorded
    killed = writes_of(wire.requests())
    resumed_from = len(wire.requests())

    state = provision(sandbox.endpoints_path)
    assert state.is_completed(), f"the run after the kill failed: {state.message}"
    both = writes_of(wire.requests())
    diff = unexpected(point, killed, both.served, clean_run.served)
    assert not diff, f"writes of the killed + resumed run vs one clean run: {diff}"
    refused = [
        (r["method"], r["status"], r["path"])
        for r in wire.requests()[resumed_from:]
        if not r["read"]
        and r["status"] >= 400
        and not (r["method"] == point.method and r["method"] in MAY_REFUSE)
    ]
    assert not refused, f"writes of the resumed run refused: {refused}"

    mark = len(wire.requests())
    state = provision(sandbox.endpoints_path)
    assert state.is_completed(), state.message
    again = writes_of(wire.requests()[mark:])
    assert again.total == 0, f"a converged environment was changed: {dict(again.served)}"
    assert held_slots(sandbox) == 0, "a finished run kept the environment's slot"
