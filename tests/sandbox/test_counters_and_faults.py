"""Call counters (reads vs writes), the request log, and deterministic fault injection."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from github.GithubException import BadAttributeException
from google.api_core import exceptions
from google.cloud import compute_v1, resourcemanager_v3
from google.protobuf import json_format

from sandbox.cloud import Sandbox
from sandbox.faults import Faults, load_file
from sandbox.malformed import corrupt
from tests.sandbox.conftest import Clients
from tests.sandbox.github import conftest as github_env
from tests.sandbox.k8s import kube_env

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


def test_rate_limit_deadline_and_refusal_faults(clients: Clients) -> None:
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

    clients.admin("PUT", "/faults", {"rules": [{"method": GET, "times": 1, "code": 403}]})
    with pytest.raises(exceptions.Forbidden, match="does not have permission"):
        clients.projects.get_project(name=created.name, retry=None)

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


# Malformed answers: the request is served for real, its successful answer corrupted.

NETWORK_GET = "compute.networks.get"


def _faults(clients: Clients, *rules: dict[str, object]) -> None:
    clients.admin("PUT", "/faults", {"rules": list(rules)})


def _vpc(clients: Clients, project: str) -> compute_v1.NetworksClient:
    networks = clients.compute(compute_v1.NetworksClient)
    network = compute_v1.Network(name="vpc", auto_create_subnetworks=False)
    clients.wait(networks.insert(project=project, network_resource=network), project)
    return networks


def _last_fault(clients: Clients) -> tuple[str, int, str]:
    last = clients.admin("GET", "/requests?limit=1")["requests"][0]
    return last["method"], last["status"], last["fault"]


def test_malformed_rules_are_validated() -> None:
    cases = {
        "rules[0].malformed: one of": {"method": "x", "malformed": "garbled"},
        "rules[0]: give exactly one of": {"method": "x", "code": 503, "malformed": "truncated"},
        "rules[0].field: only with `malformed`": {"method": "x", "code": 503, "field": "status"},
        "rules[0].field: a truncated body": {"method": "x", "malformed": "truncated", "field": "a"},
        "rules[0].field: a dotted path": {
            "method": "x",
            "malformed": "wrong-type",
            "field": "a..b",
        },
    }
    for message, rule in cases.items():
        with pytest.raises(ValueError, match=re.escape(message)):
            Faults({"rules": [rule]})
    config = {"rules": [{"method": NETWORK_GET, "malformed": "unknown-enum", "field": "state"}]}
    assert Faults(config).config() == {"seed": 0, **config}


def test_corruptions_pick_fields_deterministically() -> None:
    payload = {"name": "c", "status": "RUNNING", "config": {"state": "ACTIVE"}, "n": 3}
    body = json.dumps(payload).encode()
    assert corrupt("truncated", payload, body) == body[: len(body) // 2]
    assert json.loads(corrupt("wrong-type", payload, body) or b"")["config"] == "malformed"
    assert json.loads(corrupt("wrong-type", payload, body, "name") or b"")["name"] == 12345
    assert json.loads(corrupt("wrong-type", payload, body, "n") or b"")["n"] == "malformed"
    enum = json.loads(corrupt("unknown-enum", payload, body) or b"")
    assert (enum["status"], enum["config"]) == ("FROBNICATING", {"state": "ACTIVE"})
    nested = json.loads(corrupt("unknown-enum", payload, body, "config.state") or b"")
    assert nested["config"]["state"] == "FROBNICATING"
    listed = {"items": [{"metadata": {}}, {"status": {"phase": "Active"}}]}
    found = json.loads(corrupt("unknown-enum", listed, json.dumps(listed).encode()) or b"")
    assert found["items"][1]["status"]["phase"] == "FROBNICATING"
    # Nothing to corrupt: the rule does not apply.
    assert corrupt("unknown-enum", {"name": "x"}, b'{"name": "x"}') is None
    assert corrupt("wrong-type", payload, body, "missing.path") is None


def test_truncated_answers_reach_the_google_clients(clients: Clients, compute_project: str) -> None:
    networks = _vpc(clients, compute_project)
    _faults(clients, {"method": NETWORK_GET, "malformed": "truncated", "times": 1})
    with pytest.raises(json_format.ParseError, match="Failed to load JSON"):
        networks.get(project=compute_project, network="vpc", retry=None)
    assert _last_fault(clients) == (NETWORK_GET, 200, "malformed truncated")
    assert networks.get(project=compute_project, network="vpc").name == "vpc"  # times: 1

    # googleapiclient hands back the text of a body that is not JSON.
    clients.ready_project("iam-project-1", ["iam.googleapis.com"])
    iam = _iam(clients)
    _faults(clients, {"method": "iam.projects.serviceAccounts.list", "malformed": "truncated"})
    answer = iam.projects().serviceAccounts().list(name="projects/iam-project-1").execute()
    assert isinstance(answer, str) and answer.startswith("{")
    with pytest.raises(ValueError):
        json.loads(answer)


def test_a_malformed_write_answer_is_served_for_real(
    clients: Clients, compute_project: str
) -> None:
    networks = clients.compute(compute_v1.NetworksClient)
    _faults(clients, {"method": "compute.networks.insert", "malformed": "truncated"})
    with pytest.raises(json_format.ParseError):
        networks.insert(
            project=compute_project,
            network_resource=compute_v1.Network(name="vpc", auto_create_subnetworks=False),
        )
    _faults(clients)
    assert [n.name for n in networks.list(project=compute_project)] == ["vpc"]
    counted = clients.admin("GET", "/counters")["methods"]["compute.networks.insert"]
    assert (counted["writes"], counted["errors"]) == (1, 0)


def test_wrong_types_reach_the_google_clients(clients: Clients, compute_project: str) -> None:
    networks = _vpc(clients, compute_project)
    project = f"projects/{compute_project}"
    _faults(clients, {"method": GET, "malformed": "wrong-type"})  # labels: "malformed"
    with pytest.raises(json_format.ParseError, match="labels"):
        clients.projects.get_project(name=project, retry=None)
    assert _last_fault(clients) == (GET, 200, "malformed wrong-type")

    # A string for an object: the raw answer shows it, and the REST client silently reads an
    # empty message (why mlplat checks answers itself).
    _faults(clients, {"method": NETWORK_GET, "malformed": "wrong-type", "field": "routingConfig"})
    url = f"{clients.sandbox.url('compute')}/compute/v1/{project}/global/networks/vpc"
    assert clients.rest().get(url).json()["routingConfig"] == "malformed"
    read = networks.get(project=compute_project, network="vpc")
    assert read.name == "vpc" and not read.routing_config.routing_mode

    _faults(clients, {"method": NETWORK_GET, "malformed": "wrong-type", "field": "mtu"})
    with pytest.raises(json_format.ParseError, match="mtu"):
        networks.get(project=compute_project, network="vpc", retry=None)

    clients.ready_project("iam-project-2", ["iam.googleapis.com"])
    clients.create_service_account("iam-project-2", "robot-1")
    _faults(clients, {"method": "iam.projects.serviceAccounts.list", "malformed": "wrong-type"})
    listed = _iam(clients).projects().serviceAccounts().list(name="projects/iam-project-2")
    assert listed.execute() == {"accounts": "malformed"}


def test_unknown_enum_values_reach_the_google_clients(
    clients: Clients, compute_project: str
) -> None:
    project = f"projects/{compute_project}"
    _faults(clients, {"method": GET, "malformed": "unknown-enum"})
    url = f"{clients.sandbox.url('cloudresourcemanager')}/v3/{project}"
    assert clients.rest().get(url).json()["state"] == "FROBNICATING"
    # The REST client drops a value it does not know: the state reads as unspecified.
    read = clients.projects.get_project(name=project, retry=None)
    assert read.project_id == compute_project
    assert read.state == resourcemanager_v3.Project.State.STATE_UNSPECIFIED

    networks = clients.compute(compute_v1.NetworksClient)
    _faults(clients, {"method": "compute.networks.insert", "malformed": "unknown-enum"})
    operation = networks.insert(
        project=compute_project,
        network_resource=compute_v1.Network(name="vpc", auto_create_subnetworks=False),
    )
    assert operation.name and operation.status == compute_v1.Operation.Status.UNDEFINED_STATUS
    assert _last_fault(clients) == ("compute.networks.insert", 200, "malformed unknown-enum")


def test_error_answers_and_answers_without_the_field_are_left_alone(clients: Clients) -> None:
    _faults(
        clients,
        {"method": GET, "malformed": "truncated"},
        {"method": "cloudresourcemanager.projects.search", "malformed": "unknown-enum"},
    )
    with pytest.raises(exceptions.Forbidden):  # a 403 for a project that is not there
        clients.projects.get_project(name="projects/no-such-project", retry=None)
    assert _last_fault(clients)[2] == ""
    assert list(clients.projects.search_projects(query="id:none")) == []  # {} has no enum
    assert _last_fault(clients)[2] == ""


def _iam(clients: Clients) -> Any:
    return clients.discovery("iam")


def test_malformed_kubernetes_answers_reach_the_dynamic_client(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    kube = kube_env.start(tmp_path / "state", tmp_path / "work")
    try:
        namespaces = kube.dynamic().resources.get(api_version="v1", kind="Namespace")
        namespaces.create(body={"metadata": {"name": "team-a"}})
        faults = kube.sandbox.rt.faults
        faults.configure(
            {"rules": [{"api": "k8s", "method": "k8s.get.namespaces", "malformed": "truncated"}]}
        )
        assert isinstance(namespaces.get(name="team-a"), str)  # the body's text, not JSON
        faults.configure(
            {
                "rules": [
                    {"method": "k8s.list.namespaces", "malformed": "wrong-type", "field": "items"}
                ]
            }
        )
        with pytest.raises(TypeError):  # the client sets apiVersion on each "item" (characters)
            namespaces.get()
        faults.configure({"rules": [{"method": "k8s.get.namespaces", "malformed": "unknown-enum"}]})
        assert namespaces.get(name="team-a").status.phase == "FROBNICATING"
        log = kube.sandbox.rt.counters.requests(limit=3)
        assert [r["fault"] for r in log] == [
            "malformed truncated",
            "malformed wrong-type",
            "malformed unknown-enum",
        ]
    finally:
        kube.close()
        kube.sandbox.stop()


def test_malformed_github_answers_reach_pygithub(tmp_path: Path) -> None:
    hub = github_env.start(tmp_path / "state")
    try:
        gh = hub.client()
        gh.get_organization("mlplat").create_repo("gitops", auto_init=True)
        faults = hub.sandbox.rt.faults
        faults.configure({"rules": [{"api": "github", "method": "*", "malformed": "truncated"}]})
        with pytest.raises(json.JSONDecodeError):
            gh.get_repo("mlplat/gitops")
        faults.configure(
            {"rules": [{"api": "github", "malformed": "wrong-type", "field": "object"}]}
        )
        ref = gh.get_repo("mlplat/gitops").get_git_ref("heads/main")  # repos.get: no `object`
        with pytest.raises(BadAttributeException):
            _ = ref.object
        repo = gh.get_repo("mlplat/gitops")
        main = repo.get_branch("main").commit.sha
        repo.create_git_ref("refs/heads/feature", main)
        repo.create_file("notes.txt", "add notes", "hello", branch="feature")
        rule = {"method": "github.POST /repos/*/pulls", "malformed": "unknown-enum"}
        faults.configure({"rules": [rule]})
        pull = repo.create_pull(base="main", head="feature", title="t", body="")
        assert pull.state == "FROBNICATING"
        faults.configure({})
        assert repo.get_pull(pull.number).state == "open"  # the write itself was done
    finally:
        hub.sandbox.stop()
