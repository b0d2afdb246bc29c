"""check_drift on the sandbox: clean after provisioning (a restored copy of dev provisioned);
each out-of-band change is reported with its class and field and nothing else; remediation
fixes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.cloud import container_v1

from sandbox.cloud import Sandbox
from tests.flows.config_sync_edits import refused_with_drift_prevention
from tests.flows.conftest import drift_check
from tests.flows.platform_clients import repo as platform_repo
from tests.sandbox.conftest import Clients, client_kwargs

PROJECT = "mlp-dev-a1b2"
CLUSTER = f"projects/{PROJECT}/locations/us-central1/clusters/mlp-dev"


def _gke(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    return container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))


def _hand_edit_fleet(sandbox: Sandbox) -> None:
    """Policy Controller audits every 10 minutes and Config Sync stops preventing drift, both
    changed in Hub by hand."""
    features = Clients(sandbox).discovery("gkehub").projects().locations().features()
    for name, edit in (
        (
            "policycontroller",
            lambda spec: spec["policyControllerHubConfig"].update(auditIntervalSeconds="600"),
        ),
        ("configmanagement", lambda spec: spec["configSync"].pop("preventDrift")),
    ):
        path = f"projects/{PROJECT}/locations/global/features/{name}"
        specs = features.get(name=path).execute()["membershipSpecs"]
        (key,) = specs
        edit(specs[key][name])
        features.patch(
            name=path, updateMask="membershipSpecs", body={"membershipSpecs": specs}
        ).execute()


@pytest.mark.provisioned
def test_fresh_platform_has_no_drift_and_changes_are_found(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    assert drift_check(sandbox) == ("Completed", [])
    refused_with_drift_prevention(sandbox, tmp_path)

    gke = _gke(sandbox)
    cluster = gke.get_cluster(name=CLUSTER)
    labels = {**cluster.resource_labels, "tier": "hacked"}
    gke.set_labels(
        request={
            "name": CLUSTER,
            "resource_labels": labels,
            "label_fingerprint": cluster.label_fingerprint,
        }
    )
    gke.set_node_pool_autoscaling(
        request={
            "name": f"{CLUSTER}/nodePools/gpu-l4-spot",
            "autoscaling": {
                "enabled": True,
                "total_min_node_count": 0,
                "total_max_node_count": 3,
                "location_policy": "ANY",
            },
        }
    )
    _hand_edit_fleet(sandbox)
    repo = platform_repo(sandbox)
    readme = repo.get_contents("README.md", ref="dev")
    repo.update_file("README.md", "edited by hand", "hand edit", readme.sha, branch="dev")  # type: ignore[union-attr]

    name, findings = drift_check(sandbox)
    assert name == "Drifted"
    assert sorted(
        (f["resource"], f["drift"], f["field"], f["expected"], f["actual"]) for f in findings
    ) == [
        ("fleet/configmanagement mlp-dev", "changed", "configSync.preventDrift", "True", ""),
        (
            "fleet/policycontroller mlp-dev",
            "changed",
            "policyControllerHubConfig.auditIntervalSeconds",
            "60",
            "600",
        ),
        ("git/manifests dev", "changed", "README.md", "rendered", "differs"),
        ("gke/cluster mlp-dev", "changed", "resourceLabels.tier", "dev", "hacked"),
        ("gke/node-pool gpu-l4-spot", "changed", "autoscaling.totalMaxNodeCount", "24", "3"),
    ]

    name, findings = drift_check(sandbox, remediate=True)
    assert (name, findings) == ("Completed", [])
    assert (
        _gke(sandbox)
        .get_node_pool(name=f"{CLUSTER}/nodePools/gpu-l4-spot")
        .autoscaling.total_max_node_count
        == 24
    )
