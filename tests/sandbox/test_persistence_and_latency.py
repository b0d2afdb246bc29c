"""State survives restarts, operations complete after one, and realistic mode's timing rules:
operations progress on the clock; fresh billing links and fresh enables take a while to work."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import billing_v1, compute_v1, resourcemanager_v3

from sandbox.cloud import Sandbox
from sandbox.latency import LatencyModel
from tests.sandbox.conftest import BILLING_ACCOUNT, Clients


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Sandbox(state) as first:
        clients = Clients(first)
        project = clients.ready_project("kept-project", ["compute.googleapis.com"])
        networks = clients.compute(compute_v1.NetworksClient)
        operation = networks.insert(
            project=project,
            network_resource=compute_v1.Network(name="vpc", auto_create_subnetworks=False),
        )
        clients.wait(operation, project)
        number = clients.projects.get_project(name="projects/kept-project").name
    with Sandbox(state) as second:
        clients = Clients(second)
        assert clients.projects.get_project(name="projects/kept-project").name == number
        assert clients.compute(compute_v1.NetworksClient).get(project=project, network="vpc")
        other = clients.create_project("other-project")
        assert other.name != number  # sequences continue after a restart


def test_an_operation_started_before_a_restart_completes_after_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    # Realistic mode, 40x faster: a project create takes ~0.2 s (p50 8 s / 40).
    options: dict[str, Any] = {"latency": "realistic", "time_scale": 40.0, "seed": 7}
    with Sandbox(state, **options) as first:
        operation = Clients(first).projects.create_project(
            project=resourcemanager_v3.Project(project_id="restart-project", parent="folders/1")
        )
        name = operation.operation.name
        assert not operation.operation.done
        record = first.rt.operations.get("cloudresourcemanager", name)
        assert record is not None and record["doneAt"] > first.rt.now()
    with Sandbox(state, **options) as second:
        base = second.url("cloudresourcemanager")
        deadline = time.monotonic() + 30
        while not (done := _get(f"{base}/v3/{name}")).get("done"):
            assert time.monotonic() < deadline, "the operation never completed"
            time.sleep(0.05)
        assert done["response"]["projectId"] == "restart-project"
        assert _get(f"{base}/v3/projects/restart-project")["state"] == "ACTIVE"


def test_realistic_mode_runs_on_the_clock_with_propagation_windows(tmp_path: Path) -> None:
    options: dict[str, Any] = {"latency": "realistic", "time_scale": 10.0, "seed": 3}
    with Sandbox(tmp_path / "state", **options) as sandbox:
        clients = Clients(sandbox)
        hour = {"seconds": 3600}

        operation = clients.projects.create_project(
            project=resourcemanager_v3.Project(project_id="slow-project", parent="folders/1")
        )
        assert not operation.done()  # polled: still running, however often it is polled
        assert not operation.done()
        clients.admin("POST", "/clock/advance", hour)
        assert operation.result(timeout=5).state == resourcemanager_v3.Project.State.ACTIVE

        clients.billing.update_project_billing_info(
            name="projects/slow-project",
            project_billing_info=billing_v1.ProjectBillingInfo(
                billing_account_name=BILLING_ACCOUNT
            ),
        )
        enable = {"name": "projects/slow-project/services/compute.googleapis.com"}
        with pytest.raises(exceptions.Forbidden, match="absent billing account"):
            clients.services.enable_service(request=enable)  # the link has not settled yet
        clients.admin("POST", "/clock/advance", hour)

        enabling = clients.services.enable_service(request=enable)
        assert not enabling.done()
        networks = clients.compute(compute_v1.NetworksClient)
        with pytest.raises(exceptions.Forbidden) as caught:
            networks.list(project="slow-project")
        assert caught.value.reason == "SERVICE_DISABLED"
        clients.admin("POST", "/clock/advance", hour)
        assert enabling.result(timeout=5).service.state.name == "ENABLED"
        # Enabled, but not yet propagated: callers still see SERVICE_DISABLED for a while.
        with pytest.raises(exceptions.Forbidden) as caught:
            networks.list(project="slow-project")
        assert caught.value.reason == "SERVICE_DISABLED"
        clients.admin("POST", "/clock/advance", hour)
        assert list(networks.list(project="slow-project")) == []

        journal = clients.admin("GET", "/latency")["samples"]
        windows = {
            s["subject"]: s["seconds"]
            for s in journal
            if s["key"] == "window:serviceusage.propagation"
        }  # drawn per service, named after the project and service
        assert "projects/slow-project/services/compute.googleapis.com" in windows
        enables = [s for s in journal if s["key"] == "serviceusage.enable.heavy"]
        assert [s["subject"] for s in enables] == [
            "POST /v1/projects/slow-project/services/compute.googleapis.com:enable"
        ]
        assert all(s["seconds"] > 0 for s in journal)


def test_latency_samples_follow_the_model() -> None:
    model = LatencyModel("realistic", time_scale=2.0, seed=11)
    samples = sorted(model.operation("compute.networks.insert") for _ in range(2000))
    p50, p90 = samples[1000], samples[1800]
    assert 9.0 <= p50 <= 11.0  # 20 s / 2
    assert 17.0 <= p90 <= 23.0  # 40 s / 2
    again = LatencyModel("realistic", time_scale=2.0, seed=11)
    assert again.operation("compute.networks.insert") == LatencyModel(
        "realistic", time_scale=2.0, seed=11
    ).operation("compute.networks.insert")
    assert LatencyModel("instant").operation("compute.networks.insert") == 0.0
