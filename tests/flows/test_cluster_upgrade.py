"""A new cluster that upgrades its control plane by itself, as GKE does now and then (10-20 min,
blocking every other operation on the cluster): the fleet membership and Config Sync go on
meanwhile, the node pools wait for the upgrade, the teams' RayClusters (failed while no node
can take their pods) for the node pools, and the run converges."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from google.cloud import container_v1

from flows.provision_environment import context_of, provision_environment
from mlplat.converge.cluster import ensure_node_pool
from mlplat.converge.teams import RayGate
from mlplat.render import cluster as render
from mlplat.specs import load_spec
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, platform_sandbox, writes
from tests.sandbox import gke_setup as gke

PROJECT = "mlp-dev-a1b2"
LOCATION = f"projects/{PROJECT}/locations/us-central1"
Type = container_v1.Operation.Type


@pytest.fixture
def upgrading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox in realistic latency (÷300) where every new cluster upgrades itself."""
    with platform_sandbox(
        tmp_path, monkeypatch, latency="realistic", time_scale=300, auto_upgrade_chance=1.0
    ) as running:
        yield running


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_the_fleet_goes_on_during_the_upgrade_the_node_pools_wait_and_the_run_converges(
    upgrading: Sandbox,
) -> None:
    where = {"spec_dir": str(REFERENCE), "endpoints": str(upgrading.endpoints_path)}
    first = provision_environment("dev", **where)
    assert first["counts"]["create"] >= 12

    operations = gke.container(upgrading).list_operations(parent=LOCATION).operations
    upgrades = [op for op in operations if op.operation_type == Type.UPGRADE_MASTER]
    assert len(upgrades) == 1 and upgrades[0].status == container_v1.Operation.Status.DONE
    upgraded = _at(upgrades[0].end_time)
    pools = [op for op in operations if op.operation_type == Type.CREATE_NODE_POOL]
    assert pools and all(_at(op.start_time) >= upgraded for op in pools), (upgraded, pools)
    (membership,) = gke.hub(upgrading).list_memberships(
        parent=f"projects/{PROJECT}/locations/global"
    )
    assert membership.create_time < upgraded, (membership.create_time, upgraded)
    assert any("control plane upgrading" in row["detail"] for row in first["rows"])

    admin(upgrading, "POST", "/counters/reset")
    again = provision_environment("dev", **where)
    assert set(again["counts"]) >= {"noop"} and again["counts"]["create"] == 0
    assert writes(upgrading) == {}


@pytest.mark.provisioned
def test_a_failed_raycluster_counts_at_once_unless_its_node_pools_are_still_coming(
    sandbox: Sandbox,
) -> None:
    endpoints = str(sandbox.endpoints_path)
    ctx = context_of(load_spec(REFERENCE), "dev", False, endpoints)
    failed = {"status": {"state": "failed", "reason": "pod x is unschedulable"}}
    assert RayGate(ctx, "vision/vision-ray").settled(failed)  # every pool runs: final

    pool = render.node_pools(ctx.platform, ctx.env, ctx.project)[0]
    clusters = gke.container(sandbox)
    clusters.delete_node_pool(name=f"{ctx.cluster_path}/nodePools/{pool.name}")
    gate = RayGate(ctx, "vision/vision-ray", grace=0.5)
    assert not gate.settled(failed)  # the pool is coming back: not final
    assert gate.waited_for == [pool.name]

    ensure_node_pool(ctx, pool)
    assert not gate.settled(failed)  # the pool runs: its nodes get time to take the pods
    ready = [{"type": c, "status": "True"} for c in ("RayClusterProvisioned", "HeadPodReady")]
    assert gate.settled({"status": {"state": "ready", "conditions": ready}})
    assert not gate.settled({"status": {"state": "ready"}})  # KubeRay's conditions decide
    time.sleep(0.5)
    assert gate.settled(failed)  # still failed after the grace: final
