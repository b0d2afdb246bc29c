"""mlplat's Resource Manager, Billing, Service Usage and Compute adapters against the sandbox."""

from __future__ import annotations

import pytest

from mlplat.errors import OwnershipError, PermanentError
from mlplat.gcp import compute, projects
from mlplat.target import Target

PROJECT = "mlp-dev-a1b2"
BODY = {"projectId": PROJECT, "parent": "folders/1", "labels": {"managed-by": "mlplat"}}


def _ready_project(target: Target) -> None:
    operation = projects.create(target, dict(BODY))
    projects.wait_operation(target, "projects", operation, "create", deadline=10)
    projects.link_billing(target, PROJECT, "billingAccounts/012345-6789AB-CDEF01")
    for op in projects.enable_services(target, PROJECT, ["compute.googleapis.com"]):
        projects.wait_operation(target, "services", op, "enable", deadline=10)


def test_project_lifecycle(target: Target) -> None:
    assert projects.get(target, PROJECT) is None
    _ready_project(target)
    found = projects.get(target, PROJECT)
    assert found is not None and found["labels"] == {"managed-by": "mlplat"}
    assert projects.billing_account(target, PROJECT) == "billingAccounts/012345-6789AB-CDEF01"
    assert "compute.googleapis.com" in projects.enabled_services(target, PROJECT)


def test_taken_project_id_is_an_ownership_error(target: Target) -> None:
    _ready_project(target)
    with pytest.raises(OwnershipError, match="the ID is taken"):
        projects.create(target, dict(BODY))


def test_network_create_get_and_in_flight(target: Target) -> None:
    _ready_project(target)
    where = compute.Where(PROJECT)
    body = {"name": "mlp-dev-vpc", "autoCreateSubnetworks": False}
    assert compute.get(target, compute.NETWORK, where, "mlp-dev-vpc") is None
    op = compute.insert(target, compute.NETWORK, where, body)
    compute.wait(target, where, op, what="network", deadline=10)
    found = compute.get(target, compute.NETWORK, where, "mlp-dev-vpc")
    assert found is not None and found["name"] == "mlp-dev-vpc"
    assert compute.in_flight(target, where, "mlp-dev-vpc") is None
    with pytest.raises(PermanentError) as caught:
        compute.insert(target, compute.NETWORK, where, body)
    assert compute.is_conflict(caught.value)
