"""provision_environment under injected faults, after spec changes, and on refusals."""

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


def test_converges_under_faults_without_duplicates(sandbox: Sandbox, tmp_path: Path) -> None:
    admin(
        sandbox,
        "PUT",
        "/faults",
        {
            "seed": 11,
            "rules": [
                {"api": "*", "method": "*", "rate": 0.2, "code": 503},
                {"api": "*", "method": "*.list", "rate": 0.1, "code": 429, "retryAfter": 0.05},
                {
                    "method": "container.projects.locations.clusters.create",
                    "times": 1,
                    "operation": {
                        "status": "INTERNAL",
                        "message": "injected: cluster creation failed",
                    },
                },
            ],
        },
    )
    result = _run(sandbox, REFERENCE)
    admin(sandbox, "PUT", "/faults", {"rules": []})
    assert result["counts"]["create"] >= 12
    gke = _gke(sandbox)
    clusters = gke.list_clusters(parent=f"projects/{PROJECT}/locations/-").clusters
    assert [(c.name, c.status) for c in clusters] == [
        ("mlp-dev", container_v1.Cluster.Status.RUNNING)
    ]
    pools = sorted(p.name for p in gke.list_node_pools(parent=CLUSTER).node_pools)
    assert pools == ["gpu-l4-ondemand", "gpu-l4-reserved", "gpu-l4-spot", "system"]
    projects = resourcemanager_v3.ProjectsClient(
        **client_kwargs(sandbox.url("cloudresourcemanager"))
    )
    assert [p.project_id for p in projects.search_projects(query="")] == [PROJECT]
    admin(sandbox, "POST", "/counters/reset")
    _run(sandbox, REFERENCE)
    assert writes(sandbox) == {}


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
