"""Cloud Billing v1 through the official client."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import billing_v1

from sandbox.gcp.billing import billing_enabled
from tests.sandbox.conftest import BILLING_ACCOUNT, Clients


def test_link_and_unlink_billing(clients: Clients) -> None:
    clients.create_project("billed-project")
    billing = clients.billing
    before = billing.get_project_billing_info(name="projects/billed-project")
    assert (before.billing_enabled, before.billing_account_name) == (False, "")
    assert before.project_id == "billed-project"

    linked = billing.update_project_billing_info(
        name="projects/billed-project",
        project_billing_info=billing_v1.ProjectBillingInfo(billing_account_name=BILLING_ACCOUNT),
    )
    assert (linked.billing_enabled, linked.billing_account_name) == (True, BILLING_ACCOUNT)
    after = billing.get_project_billing_info(name="projects/billed-project")
    assert after.billing_enabled and after.name == "projects/billed-project/billingInfo"
    assert billing_enabled(clients.sandbox.rt, "billed-project")

    on_account = billing.list_project_billing_info(name=BILLING_ACCOUNT)
    assert [info.project_id for info in on_account] == ["billed-project"]
    account = billing.get_billing_account(name=BILLING_ACCOUNT)
    assert account.open and account.name == BILLING_ACCOUNT

    unlinked = billing.update_project_billing_info(
        name="projects/billed-project", project_billing_info=billing_v1.ProjectBillingInfo()
    )
    assert not unlinked.billing_enabled
    assert not billing_enabled(clients.sandbox.rt, "billed-project")


def test_malformed_billing_account_is_refused(clients: Clients) -> None:
    clients.create_project("billed-project")
    with pytest.raises(exceptions.BadRequest, match="billing account"):
        clients.billing.update_project_billing_info(
            name="projects/billed-project",
            project_billing_info=billing_v1.ProjectBillingInfo(billing_account_name="acct-1"),
        )


def test_billing_of_an_unknown_project_is_forbidden(clients: Clients) -> None:
    with pytest.raises(exceptions.Forbidden):
        clients.billing.get_project_billing_info(name="projects/not-a-project")
