"""provision_environment on the sandbox: converges from nothing, then makes no mutating call."""

from __future__ import annotations

from google.cloud import container_v1

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.sandbox.conftest import client_kwargs

PROJECT = "mlp-dev-a1b2"


def _run(sandbox: Sandbox, dry_run: bool = False) -> dict:  # type: ignore[type-arg]
    return provision_environment(
        "dev", dry_run=dry_run, spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
    )


def test_dry_run_on_empty_sandbox_plans_everything_and_mutates_nothing(sandbox: Sandbox) -> None:
    result = _run(sandbox, dry_run=True)
    actions = {row["resource"]: row["action"] for row in result["rows"]}
    assert actions["project mlp-dev-a1b2"] == "create"
    assert actions["gke/cluster mlp-dev"] == "create"
    assert actions.pop("git/protection dev") == "noop", "dev needs no approval, so no protection"
    gates = {r: a for r, a in actions.items() if r.startswith("gate/")}
    assert set(gates.values()) == {"noop"}, "readiness gates only wait; skipped in a dry run"
    assert all(a == "create" for r, a in actions.items() if r not in gates), actions
    assert writes(sandbox) == {}


def test_provision_then_rerun_is_a_noop(sandbox: Sandbox) -> None:
    first = _run(sandbox)
    assert first["counts"]["create"] >= 12
    cluster = container_v1.ClusterManagerClient(
        **client_kwargs(sandbox.url("container"))
    ).get_cluster(name=f"projects/{PROJECT}/locations/us-central1/clusters/mlp-dev")
    assert cluster.status == container_v1.Cluster.Status.RUNNING
    assert (
        cluster.network_config.datapath_provider == container_v1.DatapathProvider.ADVANCED_DATAPATH
    )
    rows = {row["resource"]: row for row in first["rows"]}
    assert rows["gate/rootsync config-management-system/root-sync"]["detail"].startswith(
        "synced at "
    ), "root-sync synced the commit mlplat pushed"
    assert rows["gate/crds ray.io"]["detail"] == "3 CRDs established"
    assert {p.name for p in cluster.node_pools} == {
        "system",
        "gpu-l4-reserved",
        "gpu-l4-ondemand",
        "gpu-l4-spot",
    }

    admin(sandbox, "POST", "/counters/reset")
    second = _run(sandbox)
    assert writes(sandbox) == {}
    assert set(second["counts"]) and second["counts"]["noop"] == len(second["rows"])
