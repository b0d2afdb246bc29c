"""Which changed fields are mlplat's ownership mark, and which project IAM members Google adds
itself (never reported as unmanaged)."""

from __future__ import annotations

import pytest

from mlplat.converge.context import Outcome
from mlplat.converge.findings import DriftClass, findings, is_ownership_field, prunable
from mlplat.converge.unmanaged import google_managed
from mlplat.plan import Action, Change, FieldChange


@pytest.mark.parametrize(
    ("kind", "path", "ownership"),
    [
        ("gke/cluster", "resourceLabels.managed-by", True),
        ("gke/cluster", "resourceLabels.mlplat-platform", True),
        ("gke/cluster", "resourceLabels.tier", False),
        ("gke/node-pool", "config.resourceLabels.mlplat-environment", True),
        ("gke/node-pool", "config.labels.managed-by", True),
        ("fleet/membership", "labels.managed-by", True),
        ("project", "labels.cost-center", False),
        ("compute/network", "description", True),
        ("compute/subnetwork", "privateIpGoogleAccess", False),
        ("gke/cluster", "description", False),
        ("gke/cluster", "managed-by", False),
    ],
)
def test_ownership_fields(kind: str, path: str, ownership: bool) -> None:
    assert is_ownership_field(kind, path) is ownership


def test_labels_changed_beside_other_changes() -> None:
    change = Change(
        "gke/cluster",
        "mlp-dev",
        Action.UPDATE,
        (
            FieldChange("resourceLabels.managed-by", "mlplat", None),
            FieldChange("resourceLabels.tier", "dev", "hacked"),
            FieldChange("resourceLabels.extra", None, "x"),
        ),
    )
    found = findings("dev", [Outcome(change, applied=False)])
    assert [(f.field, f.drift) for f in found] == [
        ("resourceLabels.managed-by", DriftClass.LABELS_CHANGED),
        ("resourceLabels.tier", DriftClass.CHANGED),
        ("resourceLabels.extra", DriftClass.UNEXPECTED),
    ]


NUMBER = "200000000001"


@pytest.mark.parametrize(
    ("member", "google"),
    [
        # service agents Google grants when APIs are enabled
        (f"serviceAccount:service-{NUMBER}@container-engine-robot.iam.gserviceaccount.com", True),
        (f"serviceAccount:service-{NUMBER}@gcp-sa-gkehub.iam.gserviceaccount.com", True),
        (f"serviceAccount:{NUMBER}@cloudservices.gserviceaccount.com", True),
        (f"serviceAccount:{NUMBER}-compute@developer.gserviceaccount.com", True),
        ("serviceAccount:mlp-dev-a1b2@appspot.gserviceaccount.com", True),
        # what a person could add
        ("serviceAccount:service-999@gcp-sa-gkehub.iam.gserviceaccount.com", False),
        ("serviceAccount:other-project@appspot.gserviceaccount.com", False),
        ("serviceAccount:ci@mlp-dev-a1b2.iam.gserviceaccount.com", False),
        (f"user:service-{NUMBER}@example.com", False),
        ("group:admins@example.com", False),
        ("allUsers", False),
    ],
)
def test_google_managed_members(member: str, google: bool) -> None:
    assert google_managed(member, "mlp-dev-a1b2", NUMBER) is google


def test_prune_never_removes_a_project_owner() -> None:
    """An owner may be the person who created the project (where the credentials do not say
    who they are): reported as unmanaged, but never in what --prune deletes."""

    def finding(resource: str, field: str, drift: str = "unmanaged") -> dict[str, str]:
        return {"resource": resource, "field": field, "drift": drift}

    assert not prunable(finding("iam/project-member user:ann@example.com", "roles/owner"))
    assert prunable(finding("iam/project-member user:ann@example.com", "roles/editor"))
    assert prunable(finding("gke/node-pool extra", ""))
    assert not prunable(finding("gke/cluster mlp-dev", "labels", "labels changed"))
