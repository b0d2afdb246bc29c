"""Policy Controller through the `policycontroller` fleet feature: a fresh environment gets it
there (and Config Sync only in `configmanagement`); built the old way, it moves over with no
moment where a privileged pod is admitted, then re-runs with no write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, platform_sandbox, writes
from tests.flows.platform_clients import kube, project_id
from tests.sandbox.conftest import Clients

ENV = "dev"
NAMESPACE = "vision"  # a team namespace of dev: the platform's constraints apply there
PRIVILEGED = {
    "metadata": {"generateName": "probe-"},
    "spec": {
        "containers": [
            {
                "name": "main",
                "image": "docker.io/rayproject/ray:2.47.1",
                "securityContext": {"privileged": True},
            }
        ]
    },
}


def _run(sandbox: Sandbox, dry_run: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = provision_environment(
        ENV, dry_run=dry_run, spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
    )
    return result


def _features(sandbox: Sandbox) -> Any:
    return Clients(sandbox).discovery("gkehub").projects().locations().features()


def _feature(sandbox: Sandbox, name: str) -> dict[str, Any]:
    found: dict[str, Any] = (
        _features(sandbox)
        .get(name=f"projects/{project_id(ENV)}/locations/global/features/{name}")
        .execute()
    )
    return found


def _only_key(mapping: dict[str, Any]) -> str:
    (key,) = mapping
    return key


def _check_fresh_shape(sandbox: Sandbox) -> None:
    """Config Sync alone in configmanagement; Policy Controller ACTIVE in policycontroller,
    enforcing the platform's constraints."""
    config = _feature(sandbox, "configmanagement")
    key = _only_key(config["membershipSpecs"])
    spec = config["membershipSpecs"][key]["configmanagement"]
    assert "policyController" not in spec and "management" not in spec
    assert spec["configSync"]["enabled"] is True and spec["configSync"]["preventDrift"] is True
    assert spec["version"] == "1.22.1"
    policy = _feature(sandbox, "policycontroller")
    assert policy["membershipStates"][key]["policycontroller"]["state"] == "ACTIVE"
    hub = policy["membershipSpecs"][key]["policycontroller"]["policyControllerHubConfig"]
    assert hub["installSpec"] == "INSTALL_SPEC_ENABLED"
    core = client.CoreV1Api(kube(sandbox, ENV))
    elsewhere = {
        "metadata": {"generateName": "probe-", "labels": {"mlplat.dev/team": "vision"}},
        "spec": {"containers": [{"name": "main", "image": "evil.example.com/miner:1"}]},
    }
    for pod, constraint in (
        (PRIVILEGED, "mlplat-no-privileged"),
        (elsewhere, "allowed-registries"),
    ):
        try:
            core.create_namespaced_pod(NAMESPACE, pod)
            raise AssertionError(f"a pod {constraint} should refuse was admitted")
        except client.ApiException as exc:
            assert exc.status == 403 and constraint in exc.body, exc.body


def _build_the_old_way(sandbox: Sandbox) -> None:
    """What an environment provisioned before the move looks like: Policy Controller inside
    `configmanagement` 1.20.1, no `policycontroller` feature."""
    config = _feature(sandbox, "configmanagement")
    key = _only_key(config["membershipSpecs"])
    old = dict(config["membershipSpecs"][key]["configmanagement"])
    old.update(
        version="1.20.1",
        policyController={
            "enabled": True,
            "templateLibraryInstalled": True,
            "referentialRulesEnabled": True,
        },
    )
    old["configSync"] = {k: v for k, v in old["configSync"].items() if k != "preventDrift"}
    parent = f"projects/{project_id(ENV)}/locations/global/features"
    _features(sandbox).patch(
        name=f"{parent}/configmanagement",
        updateMask="membershipSpecs",
        body={"membershipSpecs": {key: {"configmanagement": old}}},
    ).execute()
    _features(sandbox).patch(
        name=f"{parent}/policycontroller",
        updateMask="membershipSpecs",
        body={"membershipSpecs": {key: {}}},
    ).execute()
    _features(sandbox).delete(name=f"{parent}/policycontroller").execute()


class Probe(threading.Thread):
    """Tries to create a privileged pod again and again; records every admission."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(daemon=True)
        self.core = client.CoreV1Api(kube(sandbox, ENV))
        self.stop = threading.Event()
        self.tries = 0
        self.admitted: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                created = self.core.create_namespaced_pod(NAMESPACE, PRIVILEGED)
                self.admitted.append(created.metadata.name)
            except client.ApiException as exc:
                if "mlplat-no-privileged" not in str(exc.body):  # refused, but not by policy
                    self.admitted.append(f"{exc.status} {exc.body}")
            self.tries += 1
            self.stop.wait(0.02)


@pytest.fixture
def timed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox in realistic latency (÷600): Policy Controller's install, and its feature's
    taking over an install of the old API, take a moment, as on Google."""
    with platform_sandbox(
        tmp_path, monkeypatch, latency="realistic", time_scale=600, auto_upgrade_chance=0.0
    ) as running:
        yield running


def test_an_environment_built_the_old_way_migrates_with_no_gap(timed: Sandbox) -> None:
    sandbox = timed
    _run(sandbox)
    _check_fresh_shape(sandbox)
    _build_the_old_way(sandbox)
    plan = {row["resource"]: row for row in _run(sandbox, dry_run=True)["rows"]}
    moved = plan[f"fleet/configmanagement mlp-{ENV}"]
    assert moved["action"] == "update"
    assert "policyController" in moved["fields"].split(", ")
    assert plan[f"fleet/feature {project_id(ENV)}/policycontroller"]["action"] == "create"
    assert plan[f"fleet/policycontroller mlp-{ENV}"]["action"] == "create"

    probe = Probe(sandbox)
    probe.start()
    try:
        _run(sandbox)
    finally:
        probe.stop.set()
        probe.join(timeout=10)
    assert probe.tries > 10 and probe.admitted == [], probe.admitted
    config = _feature(sandbox, "configmanagement")
    key = _only_key(config["membershipSpecs"])
    assert "policyController" not in config["membershipSpecs"][key]["configmanagement"]

    admin(sandbox, "POST", "/counters/reset")
    again = _run(sandbox)
    assert writes(sandbox) == {}
    assert again["counts"]["noop"] == len(again["rows"])
