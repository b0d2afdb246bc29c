"""Service Usage v1 through the official client, and the SERVICE_DISABLED gate of Compute."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import billing_v1, compute_v1

from tests.sandbox.conftest import BILLING_ACCOUNT, Clients

COMPUTE = "compute.googleapis.com"
CONTAINER = "container.googleapis.com"


def _link_billing(clients: Clients, project_id: str) -> None:
    clients.billing.update_project_billing_info(
        name=f"projects/{project_id}",
        project_billing_info=billing_v1.ProjectBillingInfo(billing_account_name=BILLING_ACCOUNT),
    )


def _enabled(clients: Clients, parent: str) -> set[str]:
    listed = clients.services.list_services(request={"parent": parent, "filter": "state:ENABLED"})
    return {service.config.name for service in listed}


def test_compute_is_disabled_until_enabled(clients: Clients) -> None:
    created = clients.create_project("svc-project-1")
    number = created.name.removeprefix("projects/")
    networks = clients.compute(compute_v1.NetworksClient)
    with pytest.raises(exceptions.Forbidden) as caught:
        networks.list(project="svc-project-1")
    error = caught.value
    assert error.reason == "SERVICE_DISABLED"
    assert error.domain == "googleapis.com"
    assert error.metadata["service"] == COMPUTE
    assert error.metadata["consumer"] == f"projects/{number}"
    assert f"has not been used in project {number} before or it is disabled" in error.message

    _link_billing(clients, "svc-project-1")
    operation = clients.services.enable_service(
        request={"name": f"projects/{number}/services/{COMPUTE}"}
    )
    service = operation.result(timeout=10).service
    assert service.state.name == "ENABLED"
    assert service.name == f"projects/{number}/services/{COMPUTE}"
    assert list(networks.list(project="svc-project-1")) == []


def test_batch_enable_then_list_enabled(clients: Clients) -> None:
    clients.create_project("svc-project-2")
    enabled_before = _enabled(clients, "projects/svc-project-2")
    assert COMPUTE not in enabled_before
    assert "serviceusage.googleapis.com" in enabled_before  # enabled on new projects

    _link_billing(clients, "svc-project-2")
    request = {
        "parent": "projects/svc-project-2",
        "service_ids": [CONTAINER, "gkehub.googleapis.com", "iam.googleapis.com"],
    }
    response = clients.services.batch_enable_services(request=request).result(timeout=10)
    assert {s.config.name for s in response.services} == {
        CONTAINER,
        "gkehub.googleapis.com",
        "iam.googleapis.com",
    }
    enabled = _enabled(clients, "projects/svc-project-2")
    # container depends on compute: enabling it enables compute too.
    assert {CONTAINER, COMPUTE, "gkehub.googleapis.com", "iam.googleapis.com"} <= enabled
    got = clients.services.get_service(
        request={"name": f"projects/svc-project-2/services/{CONTAINER}"}
    )
    assert got.state.name == "ENABLED" and got.config.title == "Kubernetes Engine API"


def test_enabling_a_billed_service_needs_billing(clients: Clients) -> None:
    clients.create_project("svc-project-3")
    with pytest.raises(exceptions.BadRequest) as caught:
        clients.services.enable_service(
            request={"name": f"projects/svc-project-3/services/{COMPUTE}"}
        )
    assert caught.value.reason == "UREQ_PROJECT_BILLING_NOT_FOUND"
    assert "Billing must be enabled" in caught.value.message
    # A service without billing requirement enables fine.
    name = "projects/svc-project-3/services/iam.googleapis.com"
    assert clients.services.enable_service(request={"name": name}).result(timeout=10)


def test_batch_limits_and_unknown_services(clients: Clients) -> None:
    clients.ready_project("svc-project-4", ["iam.googleapis.com"])
    too_many = [f"service{i}.googleapis.com" for i in range(21)]
    with pytest.raises(exceptions.BadRequest, match="At most 20"):
        clients.services.batch_enable_services(
            request={"parent": "projects/svc-project-4", "service_ids": too_many}
        )
    with pytest.raises(exceptions.Forbidden, match="Not found or permission denied"):
        clients.services.enable_service(
            request={"name": "projects/svc-project-4/services/contaner.googleapis.com"}
        )


def test_disable_refuses_when_dependents_are_enabled(clients: Clients) -> None:
    clients.ready_project("svc-project-5", [CONTAINER])
    name = f"projects/svc-project-5/services/{COMPUTE}"
    with pytest.raises(exceptions.BadRequest, match="depended on"):
        clients.services.disable_service(request={"name": name})
    request = {"name": name, "disable_dependent_services": True}
    clients.services.disable_service(request=request).result(timeout=10)
    assert not {COMPUTE, CONTAINER} & _enabled(clients, "projects/svc-project-5")
