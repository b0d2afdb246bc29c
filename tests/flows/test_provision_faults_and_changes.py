"""provision_environment after spec changes, and on refusals. (Under injected faults: the
reliability suite's fault soak, tests/reliability/test_fault_soak.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from google.cloud import container_v1, resourcemanager_v3

from flows.provision_environment import provision_environment
from mlplat.errors import OwnershipError, ReplacementRequired
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.sandbox.conftest import client_kwargs

PROJECT = "mlp-dev-a1b2"
CLUSTER = f"projects/{PROJECT}/locations/us-central1/clusters/mlp-dev"


def _spec_copy(tmp_path: Path) -> Path:
    root = tmp_path / "spec"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"))
    return root


def _run(sandbox: Sandbox, spec: Path, dry_run: bool = False) -> dict:  # type: ignore[type-arg]
    return provision_environment(
        "dev", dry_run=dry_run, spec_dir=str(spec), endpoints=str(sandbox.endpoints_path)
    )


def _gke(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    return container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))


def test_spec_change_plans_and_applies_exactly_that_field(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = _spec_copy(tmp_path)
    _run(sandbox, spec)
    platform = yaml.safe_load((spec / "platform.yaml").read_text())
    platform["environment_defaults"]["node_pools"][2]["autoscaling"]["max"] = 8
    (spec / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))

    admin(sandbox, "POST", "/counters/reset")
    plan = _run(sandbox, spec, dry_run=True)
    changed = [row for row in plan["rows"] if row["action"] != "noop"]
    assert changed == [
        {
            "resource": "gke/node-pool gpu-l4-spot",
            "action": "update",
            "fields": "autoscaling.totalMaxNodeCount",
            "applied": "no",
            "detail": "",
        }
    ]
    assert writes(sandbox) == {}

    _run(sandbox, spec)
    assert set(writes(sandbox)) == {
        "container.projects.locations.clusters.nodePools.setAutoscaling"
    }
    pool = _gke(sandbox).get_node_pool(name=f"{CLUSTER}/nodePools/gpu-l4-spot")
    assert pool.autoscaling.total_max_node_count == 8


def test_immutable_change_is_refused_before_anything_is_touched(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = _spec_copy(tmp_path)
    _run(sandbox, spec)
    env = spec / "environments" / "dev.yaml"
    env.write_text(env.read_text() + "network:\n  master_cidr: 172.16.0.48/28\n")
    admin(sandbox, "POST", "/counters/reset")
    with pytest.raises(ReplacementRequired, match=r"privateClusterConfig\.masterIpv4CidrBlock"):
        _run(sandbox, spec, dry_run=True)
    with pytest.raises(ReplacementRequired):
        _run(sandbox, spec)
    assert writes(sandbox) == {}


def test_project_without_our_label_is_refused(sandbox: Sandbox) -> None:
    projects = resourcemanager_v3.ProjectsClient(
        **client_kwargs(sandbox.url("cloudresourcemanager"))
    )
    projects.create_project(
        project=resourcemanager_v3.Project(project_id=PROJECT, parent="folders/9")
    ).result(timeout=10)
    admin(sandbox, "POST", "/counters/reset")
    with pytest.raises(OwnershipError, match="does not carry mlplat's ownership labels"):
        _run(sandbox, REFERENCE)
    assert writes(sandbox) == {}
