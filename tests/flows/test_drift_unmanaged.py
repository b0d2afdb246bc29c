"""Drift that sees everything mlplat owns, on one provisioned environment shared by the module:
ownership labels replaced by hand are drift ("labels changed") that remediation puts back;
objects added by hand inside what mlplat owns are "unmanaged", left alone by `--remediate`,
deleted by `--prune`. Every change by hand goes through the official clients, gcloud or
kubectl, as a person would make it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from google.cloud import compute_v1, container_v1, gkehub_v1, resourcemanager_v3
from google.protobuf import field_mask_pb2
from kubernetes import client

from flows.provision_environment import provision_environment
from mlplat_cli.drift_command import EXIT_DRIFT, print_findings
from mlplat_cli.main import main
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, drift_check, restored
from tests.flows.platform_clients import kube, kubectl, project_id
from tests.gcloud_cli import gcloud
from tests.sandbox.conftest import Clients, client_kwargs

PROJECT = project_id("dev")
CLUSTER = f"projects/{PROJECT}/locations/us-central1/clusters/mlp-dev"
MEMBERSHIP = f"projects/{PROJECT}/locations/global/memberships/mlp-dev"
OUTSIDER = "user:mallory@example.com"
OTHER_REGION = "europe-west4"
DONE = compute_v1.Operation.Status.DONE
Rows = list[tuple[str, str, str]]


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, provisioned_snapshot: Path
) -> Iterator[Sandbox]:
    """One sandbox with dev provisioned from the reference spec, clean of drift, for the module
    (its tests run in order, each leaving the environment without drift): a restored copy."""
    tmp = tmp_path_factory.mktemp("drift-unmanaged")
    with (
        pytest.MonkeyPatch.context() as patch,
        restored(provisioned_snapshot, tmp, patch) as running,
    ):
        yield running


def _rows(findings: list[dict[str, Any]]) -> Rows:
    return sorted((f["resource"], f["drift"], f["field"]) for f in findings)


def _gke(sandbox: Sandbox) -> container_v1.ClusterManagerClient:
    return container_v1.ClusterManagerClient(**client_kwargs(sandbox.url("container")))


def test_labels_replaced_are_drift_and_remediation_restores_them(
    sandbox: Sandbox,
) -> None:
    gke = _gke(sandbox)
    _replace_labels(gke, {"owner": "someone-else"})
    hub = gkehub_v1.GkeHubClient(**client_kwargs(sandbox.url("gkehub")))
    hub.update_membership(
        name=MEMBERSHIP,
        resource=gkehub_v1.Membership(labels={}),
        update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
    ).result(timeout=30)

    name, findings = drift_check(sandbox)
    assert (name, _rows(findings)) == (
        "Drifted",
        [
            ("fleet/membership mlp-dev", "labels changed", "labels.managed-by"),
            ("fleet/membership mlp-dev", "labels changed", "labels.mlplat-environment"),
            ("fleet/membership mlp-dev", "labels changed", "labels.mlplat-platform"),
            ("gke/cluster mlp-dev", "changed", "resourceLabels.cost-center"),
            ("gke/cluster mlp-dev", "changed", "resourceLabels.tier"),
            ("gke/cluster mlp-dev", "labels changed", "resourceLabels.managed-by"),
            ("gke/cluster mlp-dev", "labels changed", "resourceLabels.mlplat-environment"),
            ("gke/cluster mlp-dev", "labels changed", "resourceLabels.mlplat-platform"),
        ],
    )

    assert drift_check(sandbox, remediate=True) == ("Completed", [])
    restored = {
        "owner": "someone-else",  # not mlplat's label: left as the person set it
        "cost-center": "ml-platform",
        "tier": "dev",
        "managed-by": "mlplat",
        "mlplat-platform": "mlp",
        "mlplat-environment": "dev",
    }
    assert dict(gke.get_cluster(name=CLUSTER).resource_labels) == restored
    assert dict(hub.get_membership(name=MEMBERSHIP).labels) == {
        "managed-by": "mlplat",
        "mlplat-platform": "mlp",
        "mlplat-environment": "dev",
    }

    # A normal run (`mlplat up`) puts them back too, instead of refusing the cluster.
    _replace_labels(gke, {"owner": "someone-else"})
    provision_environment("dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path))
    assert dict(gke.get_cluster(name=CLUSTER).resource_labels) == restored


def _replace_labels(gke: container_v1.ClusterManagerClient, labels: dict[str, str]) -> None:
    """setResourceLabels with the cluster's current fingerprint, as a person would."""
    cluster = gke.get_cluster(name=CLUSTER)
    gke.set_labels(
        request={
            "name": CLUSTER,
            "resource_labels": labels,
            "label_fingerprint": cluster.label_fingerprint,
        }
    )


def _add_by_hand(sandbox: Sandbox, tmp_path: Path) -> None:
    """A node pool (google-cloud-container), a RoleBinding in a team's namespace (kubectl), a
    project IAM member (gcloud), a service account (IAM's discovery client), a subnetwork of
    the VPC in another region (google-cloud-compute) and a namespace with a team's label (the
    Kubernetes client)."""
    gke = _gke(sandbox)
    operation = gke.create_node_pool(
        request={
            "parent": CLUSTER,
            "node_pool": {
                "name": "by-hand",
                "initial_node_count": 1,
                "config": {"machine_type": "e2-standard-4"},
            },
        }
    )
    assert operation.name
    made = kubectl(
        sandbox,
        "dev",
        tmp_path,
        "create",
        "rolebinding",
        "mallory-admin",
        "--namespace=vision",
        "--clusterrole=admin",
        "--user=mallory@example.com",
    )
    assert made.returncode == 0, made.stderr
    gcloud(
        sandbox.state_dir,
        "projects",
        "add-iam-policy-binding",
        PROJECT,
        f"--member={OUTSIDER}",
        "--role=roles/editor",
        "--condition=None",
    )
    accounts = Clients(sandbox).discovery("iam").projects().serviceAccounts()
    accounts.create(
        name=f"projects/{PROJECT}", body={"accountId": "by-hand", "serviceAccount": {}}
    ).execute()
    client.CoreV1Api(kube(sandbox, "dev")).create_namespace(
        {"metadata": {"name": "speech", "labels": {"mlplat.dev/team": "speech"}}}
    )
    clients = Clients(sandbox)
    subnet = clients.compute(compute_v1.SubnetworksClient).insert(
        project=PROJECT,
        region=OTHER_REGION,
        subnetwork_resource=compute_v1.Subnetwork(
            name="by-hand", network="global/networks/mlp-dev-vpc", ip_cidr_range="10.90.0.0/24"
        ),
    )
    assert clients.wait(subnet, PROJECT, region=OTHER_REGION).status == DONE


UNMANAGED: Rows = [
    (f"compute/subnetwork {OTHER_REGION}/by-hand", "unmanaged", ""),
    ("gke/node-pool by-hand", "unmanaged", ""),
    (f"iam/project-member {OUTSIDER}", "unmanaged", "roles/editor"),
    (f"iam/service-account by-hand@{PROJECT}.iam.gserviceaccount.com", "unmanaged", ""),
    ("k8s/Namespace speech", "unmanaged", "mlplat.dev/team"),
    ("k8s/RoleBinding vision/mallory-admin", "unmanaged", "roleRef"),
]


def _still_there(sandbox: Sandbox) -> dict[str, bool]:
    pools = {p.name for p in _gke(sandbox).get_cluster(name=CLUSTER).node_pools}
    rbac = client.RbacAuthorizationV1Api(kube(sandbox, "dev"))
    bindings = {b.metadata.name for b in rbac.list_namespaced_role_binding("vision").items}
    namespaces = {
        n.metadata.name for n in client.CoreV1Api(kube(sandbox, "dev")).list_namespace().items
    }
    accounts = Clients(sandbox).discovery("iam").projects().serviceAccounts()
    listed = accounts.list(name=f"projects/{PROJECT}").execute().get("accounts", [])
    projects = resourcemanager_v3.ProjectsClient(
        **client_kwargs(sandbox.url("cloudresourcemanager"))
    )
    policy = projects.get_iam_policy(request={"resource": f"projects/{PROJECT}"})
    subnets = Clients(sandbox).compute(compute_v1.SubnetworksClient)
    return {
        "subnetwork": "by-hand"
        in {s.name for s in subnets.list(project=PROJECT, region=OTHER_REGION)},
        "node pool": "by-hand" in pools,
        "RoleBinding": "mallory-admin" in bindings,
        "namespace": "speech" in namespaces,
        "service account": any(a["email"].startswith("by-hand@") for a in listed),
        "IAM member": any(OUTSIDER in b.members for b in policy.bindings),
    }


def test_unmanaged_children_are_reported_left_alone_then_pruned(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _add_by_hand(sandbox, tmp_path)

    name, findings = drift_check(sandbox)
    assert (name, _rows(findings)) == ("Drifted", UNMANAGED)
    shown = io.StringIO()
    with redirect_stdout(shown):
        code = print_findings({"environments": ["dev"], "findings": findings}, "ui")
    assert code == EXIT_DRIFT
    assert "--prune would delete:" in shown.getvalue()
    assert "dev: k8s/RoleBinding vision/mallory-admin" in shown.getvalue()

    # --remediate leaves them alone, and still reports them.
    name, findings = drift_check(sandbox, remediate=True)
    assert (name, _rows(findings)) == ("Drifted", UNMANAGED)
    assert set(_still_there(sandbox).values()) == {True}

    # `mlplat drift --prune` as an operator types it (this session's Prefect server, the
    # sandbox named by $MLPLAT_SANDBOX_ENDPOINTS): deleted, and drift is then clean.
    monkeypatch.setenv("MLPLAT_SANDBOX_ENDPOINTS", str(sandbox.endpoints_path))
    capsys.readouterr()
    assert main(["drift", "--env", "dev", "--prune", "--spec", str(REFERENCE)]) == 0
    assert "no drift in dev" in capsys.readouterr().out
    assert _still_there(sandbox) == dict.fromkeys(_still_there(sandbox), False)
    assert drift_check(sandbox) == ("Completed", [])


def test_a_project_that_lost_its_labels_is_reported_not_adopted(sandbox: Sandbox) -> None:
    """Last: the project is the root of ownership (its ID could be anyone's), so without
    mlplat's labels nothing in it is touched; drift says so instead of failing."""
    projects = resourcemanager_v3.ProjectsClient(
        **client_kwargs(sandbox.url("cloudresourcemanager"))
    )
    project = projects.get_project(name=f"projects/{PROJECT}")
    project.labels.clear()
    projects.update_project(
        request={"project": project, "update_mask": {"paths": ["labels"]}}
    ).result(timeout=30)

    expected = [(f"project {PROJECT}", "labels changed", "labels")]
    name, findings = drift_check(sandbox)
    assert (name, _rows(findings)) == ("Drifted", expected)
    assert drift_check(sandbox, remediate=True)[1] == findings
    assert projects.get_project(name=f"projects/{PROJECT}").labels == {}
