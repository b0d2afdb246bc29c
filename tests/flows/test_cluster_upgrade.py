"""A new cluster that upgrades its control plane by itself, as GKE does now and then (10-20 min,
blocking every other operation on the cluster): the run waits for it, then creates the node
pools, and converges. (Going on with the fleet meanwhile does not pay: the teams' RayClusters
need the node pools, which wait for the upgrade; the sandbox fails a RayCluster whose pool is
missing.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from google.cloud import container_v1

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN, GitHub
from tests.flows.conftest import REFERENCE, admin, writes
from tests.sandbox import gke_setup as gke

PROJECT = "mlp-dev-a1b2"
LOCATION = f"projects/{PROJECT}/locations/us-central1"
Type = container_v1.Operation.Type


@pytest.fixture
def upgrading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A sandbox in realistic latency (÷300) where every new cluster upgrades itself."""
    with Sandbox(
        tmp_path / "state", latency="realistic", time_scale=300, auto_upgrade_chance=1.0
    ) as running:
        github = running.component("github")
        assert isinstance(github, GitHub)
        github.create_org("ml-platform-org")
        monkeypatch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
        yield running


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_the_run_waits_for_the_upgrade_then_creates_the_node_pools_and_converges(
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

    admin(upgrading, "POST", "/counters/reset")
    again = provision_environment("dev", **where)
    assert set(again["counts"]) >= {"noop"} and again["counts"]["create"] == 0
    assert writes(upgrading) == {}
