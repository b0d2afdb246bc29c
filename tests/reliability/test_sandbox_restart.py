"""The sandbox goes down in the middle of a run (killed, as a crash, or stopped as `mlplat stop`
does) and comes back a few seconds later on the same ports and state directory, as `mlplat up`
starts it (mlplat_cli.services.ensure_sandbox: a `python -m sandbox serve` process). The run
rides through the outage: calls that found the endpoint refusing connections, and reads that
lost their answer, are retried as transient (mlplat/unreachable.py); the operation in flight
survives the restart and completes. Nothing is created twice, and a further run changes nothing.

The outage starts in a window where the run only polls (a write cut mid-way is not repeated:
that run stops and the next one converges, as tests/reliability/test_crash_resume.py shows)."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.cloud import container_v1

from mlplat_cli.services import ensure_sandbox, recorded_process, stop_services
from mlplat_cli.session import sandbox_org
from sandbox.github.component import ADMIN_TOKEN
from tests.reliability.conftest import FULL
from tests.reliability.writes import CleanRun, Writes, provision
from tests.sandbox.conftest import client_kwargs

LATENCY, TIME_SCALE = "realistic", 60.0  # a regional cluster takes several seconds
DOWN_SECONDS = 2.0  # plus the time the new sandbox process takes to start
CLUSTER = "projects/mlp-dev-a1b2/locations/us-central1/clusters/mlp-dev"
_CLUSTER_OPS = "container.projects.locations.operations.get"


@dataclass(frozen=True)
class Outage:
    """When the sandbox goes down: once method `method` has been called `calls` times, in a
    window where the run only waits; `crash`: SIGKILL, else SIGTERM (a clean stop)."""

    name: str
    method: str
    calls: int
    crash: bool = True
    after: float = 0.0  # then wait this long (after a write: until its answer is out)


OUTAGES = [
    Outage("crash-while-cluster-creates", _CLUSTER_OPS, calls=3),
    Outage("stop-while-apis-enable", "serviceusage.operations.get", calls=2, crash=False),
    Outage(  # node pools creating, Config Sync installing
        "crash-after-config-management",
        "gkehub.projects.locations.features.patch",
        calls=1,
        after=0.5,
    ),
    Outage("stop-while-root-sync-waits", "k8s.get.rootsyncs", calls=2, crash=False),
]
CI_OUTAGES = ("crash-while-cluster-creates",)


class Services:
    """The sandbox process of a state directory, as `mlplat up` runs it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.endpoints_path, started = ensure_sandbox(directory, LATENCY, TIME_SCALE)
        assert started

    @property
    def endpoints(self) -> dict[str, Any]:
        """endpoints.json without the identity token, which each start makes anew."""
        written = dict(json.loads(self.endpoints_path.read_text()))
        written.pop("identity", None)
        return written

    def admin(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.endpoints["admin"] + path, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def calls(self, method: str) -> int:
        return int(self.admin("GET", "/counters")["methods"].get(method, {}).get("count", 0))

    def writes(self) -> Writes:
        """The mutating calls this sandbox process has answered, per method."""
        served: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for name, entry in self.admin("GET", "/counters")["methods"].items():
            if entry["writes"]:
                assert not entry["reads"], f"{name} counted as both read and write"
                served[name] = entry["writes"] - entry["errors"]
                refused[name] = entry["errors"]
        return Writes(+served, +refused)

    def down(self, *, crash: bool) -> None:
        """Kill (crash) or stop the sandbox process, and wait until it is gone."""
        pid = recorded_process(self.directory / "sandbox.pid")
        assert pid is not None, "the sandbox is not running"
        if crash:
            os.killpg(pid, signal.SIGKILL)
        else:
            stop_services(self.directory)
        deadline = time.monotonic() + 30
        while _alive(pid):
            assert time.monotonic() < deadline, "the sandbox did not stop"
            time.sleep(0.05)

    def up(self) -> None:
        path, started = ensure_sandbox(self.directory, LATENCY, TIME_SCALE)
        assert started and path == self.endpoints_path


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        os.kill(pid, 0)
    except (ChildProcessError, ProcessLookupError):
        return False
    return True


def _refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) != 0


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
    running = Services(tmp_path / "sandbox")
    try:
        sandbox_org(running.endpoints_path, "ml-platform-org")
        running.admin("POST", "/counters/reset")  # count the run's writes only
        yield running
    finally:
        stop_services(running.directory)


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "outage", [o for o in OUTAGES if FULL or o.name in CI_OUTAGES], ids=lambda o: o.name
)
def test_a_run_rides_through_a_sandbox_restart(
    outage: Outage, services: Services, clean_dev: CleanRun
) -> None:
    result: list[Any] = []
    runner = threading.Thread(target=lambda: result.append(provision(services.endpoints_path)))
    runner.start()
    deadline = time.monotonic() + 180
    while services.calls(outage.method) < outage.calls:
        assert runner.is_alive(), "the run ended before the outage"
        assert time.monotonic() < deadline, f"{outage.method} was never called {outage.calls}x"
        time.sleep(0.05)
    time.sleep(outage.after)
    if outage.method == _CLUSTER_OPS:
        api = services.endpoints["apis"]["container"]
        gke = container_v1.ClusterManagerClient(**client_kwargs(api))
        assert gke.get_cluster(name=CLUSTER).status == container_v1.Cluster.Status.PROVISIONING
    before_ports = services.endpoints
    before = services.writes()

    services.down(crash=outage.crash)
    assert _refused(before_ports["apis"]["container"]), "the sandbox is still serving"
    time.sleep(DOWN_SECONDS)
    assert runner.is_alive(), "the run gave up while the sandbox was down"
    services.up()
    assert services.endpoints == before_ports, "the sandbox came back on other ports"

    runner.join(timeout=240)
    assert result, "the run did not finish after the sandbox came back"
    assert result[0].is_completed(), f"the run failed: {result[0].message}"
    both = before + services.writes()
    differ = {
        m: (both.served[m], clean_dev.writes.served[m])
        for m in sorted(set(both.served) | set(clean_dev.writes.served))
        if both.served[m] != clean_dev.writes.served[m]
    }
    assert not differ, f"writes of the interrupted run vs one clean run: {differ}"

    services.admin("POST", "/counters/reset")
    again = provision(services.endpoints_path)
    assert again.is_completed(), again.message
    changed = services.writes()
    assert changed.total == 0, f"a converged environment was changed: {changed}"
