"""Call counters (reads vs writes), the request log, and deterministic fault injection."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from sandbox.cloud import Sandbox
from sandbox.faults import Faults, load_file
from tests.sandbox.conftest import Clients

GET = "cloudresourcemanager.projects.get"


def test_counters_split_reads_and_writes(clients: Clients, compute_project: str) -> None:
    clients.admin("POST", "/counters/reset")
    networks = clients.compute(compute_v1.NetworksClient)
    operation = networks.insert(
        project=compute_project,
        network_resource=compute_v1.Network(name="vpc", auto_create_subnetworks=False),
    )
    clients.wait(operation, compute_project)  # POST …/wait: a read-only custom method
    networks.get(project=compute_project, network="vpc")
    list(networks.list(project=compute_project))
    clients.projects.get_project(name=f"projects/{compute_project}")

    counters = clients.admin("GET", "/counters")
    methods = counters["methods"]
    assert methods["compute.networks.insert"] == {"count": 1, "reads": 0, "writes": 1, "errors": 0}
    assert methods["compute.globalOperations.wait"]["reads"] == 1
    assert methods["compute.networks.get"]["reads"] == 1
    assert methods["compute.networks.list"]["reads"] == 1
    assert methods[GET]["reads"] == 1
    assert (counters["reads"], counters["writes"]) == (4, 1)
    assert counters["apis"]["compute"] == {"count": 4, "reads": 3, "writes": 1, "errors": 0}

    log = clients.admin("GET", "/requests?limit=2")["requests"]
    assert [entry["method"] for entry in log] == ["compute.networks.list", GET]
    assert log[0]["path"] == f"/compute/v1/projects/{compute_project}/global/networks"

    clients.admin("POST", "/counters/reset")
    assert clients.admin("GET", "/counters") == {"reads": 0, "writes": 0, "apis": {}, "methods": {}}


def _outcomes(clients: Clients, name: str, calls: int) -> list[bool]:
    """True where a projects.get call failed with 503 (no client retry)."""
    rm = clients.projects
    failed = []
    for _ in range(calls):
        try:
            rm.get_project(name=name, retry=None)
            failed.append(False)
        except exceptions.ServiceUnavailable:
            failed.append(True)
    return failed


def test_error_rate_is_honoured_and_reproducible(clients: Clients) -> None:
    created = clients.create_project("faulty-1")
    config = {"seed": 42, "rules": [{"method": GET, "rate": 0.3, "code": 503}]}
    clients.admin("PUT", "/faults", config)
    first = _outcomes(clients, created.name, 400)
    assert 0.24 <= sum(first) / len(first) <= 0.36
    # Other methods are untouched.
    assert list(clients.projects.search_projects(query="id:faulty-1", retry=None))

    clients.admin("PUT", "/faults", config)  # same seed: the same sequence again
    assert _outcomes(clients, created.name, 400) == first
    clients.admin("PUT", "/faults", {**config, "seed": 43})
    assert _outcomes(clients, created.name, 400) != first

    counters = clients.admin("GET", "/counters")["methods"][GET]
    assert counters["count"] == 1200 and 0.24 <= counters["errors"] / 1200 <= 0.36
    faulted = [r for r in clients.admin("GET", "/requests")["requests"] if r["fault"]]
    assert faulted and all(r["status"] == 503 for r in faulted)


def _raw_status(url: str) -> tuple[int, dict[str, str], float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, dict(response.headers), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), time.monotonic() - started


def test_rate_limit_and_deadline_faults(clients: Clients) -> None:
    created = clients.create_project("faulty-2")
    url = f"{clients.sandbox.url('cloudresourcemanager')}/v3/{created.name}"
    clients.admin(
        "PUT", "/faults", {"rules": [{"method": GET, "rate": 1, "code": 429, "retryAfter": 7}]}
    )
    status, headers, _ = _raw_status(url)
    assert (status, headers["Retry-After"]) == (429, "7")
    with pytest.raises(exceptions.TooManyRequests):
        clients.projects.get_project(name=created.name, retry=None)

    clients.admin(
        "PUT", "/faults", {"rules": [{"method": GET, "rate": 1, "code": "deadline", "delay": 0.3}]}
    )
    status, _, elapsed = _raw_status(url)
    assert status == 504 and elapsed >= 0.3

    clients.admin("PUT", "/faults", {"rules": []})
    assert _raw_status(url)[0] == 200


def test_invalid_fault_configuration_is_refused(clients: Clients) -> None:
    with pytest.raises(urllib.error.HTTPError) as caught:
        clients.admin("PUT", "/faults", {"rules": [{"method": GET, "rate": 2, "code": 503}]})
    assert caught.value.code == 400
    assert clients.admin("GET", "/faults") == {"seed": 0, "rules": []}


def test_faults_from_a_file_at_start(tmp_path: Path) -> None:
    config = tmp_path / "faults.json"
    config.write_text(json.dumps({"rules": [{"method": GET, "rate": 1, "code": 500}]}))
    with Sandbox(tmp_path / "state", faults=load_file(config)) as sandbox:
        url = f"{sandbox.url('cloudresourcemanager')}/v3/projects/any-project"
        assert _raw_status(url)[0] == 500


def test_times_caps_how_often_a_rule_fires() -> None:
    faults = Faults(
        {"rules": [{"method": "a.b.create", "times": 2, "operation": {"status": "INTERNAL"}}]}
    )
    outcomes = [faults.operation_failure("a", "a.b.create") is not None for _ in range(5)]
    assert outcomes == [True, True, False, False, False]
