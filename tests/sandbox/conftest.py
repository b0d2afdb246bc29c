"""Fixtures: an in-process Sandbox on free ports, and the official clients pointed at it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import billing_v1, compute_v1, resourcemanager_v3, service_usage_v1
from googleapiclient import discovery

from sandbox.cloud import Sandbox

BILLING_ACCOUNT = "billingAccounts/012345-6789AB-CDEF01"


def client_kwargs(url: str) -> dict[str, Any]:
    """What the tool passes to every Google client: REST, anonymous, the sandbox endpoint."""
    return {
        "credentials": AnonymousCredentials(),
        "transport": "rest",
        "client_options": ClientOptions(api_endpoint=url),
    }


@dataclass
class Clients:
    """The official clients, one per API, against one sandbox."""

    sandbox: Sandbox

    def _kw(self, api: str) -> dict[str, Any]:
        return client_kwargs(self.sandbox.url(api))

    @property
    def projects(self) -> resourcemanager_v3.ProjectsClient:
        return resourcemanager_v3.ProjectsClient(**self._kw("cloudresourcemanager"))

    @property
    def billing(self) -> billing_v1.CloudBillingClient:
        return billing_v1.CloudBillingClient(**self._kw("cloudbilling"))

    @property
    def services(self) -> service_usage_v1.ServiceUsageClient:
        return service_usage_v1.ServiceUsageClient(**self._kw("serviceusage"))

    def discovery(self, api: str, version: str = "v1") -> Any:
        """A google-api-python-client for `api` on the sandbox (as IAM and Cloud Asset use)."""
        return discovery.build(
            api,
            version,
            static_discovery=True,
            cache_discovery=False,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.sandbox.url(api)),
        )

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call the admin endpoint; returns the parsed JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        url = self.sandbox.admin_url + path
        request = urllib.request.Request(url, data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def create_project(self, project_id: str, **fields: Any) -> resourcemanager_v3.Project:
        """Create a project under folders/100 and wait for its operation."""
        project = resourcemanager_v3.Project(project_id=project_id, parent="folders/100", **fields)
        return self.projects.create_project(project=project).result(timeout=10)

    def ready_project(self, project_id: str, services: list[str]) -> str:
        """A project with billing linked and services enabled; returns its ID."""
        self.create_project(project_id)
        self.billing.update_project_billing_info(
            name=f"projects/{project_id}",
            project_billing_info=billing_v1.ProjectBillingInfo(
                billing_account_name=BILLING_ACCOUNT
            ),
        )
        request = {"parent": f"projects/{project_id}", "service_ids": services}
        self.services.batch_enable_services(request=request).result(timeout=10)
        return project_id

    def rest(self) -> AuthorizedSession:
        """A plain REST session (google-auth, anonymous), for APIs without a client here."""
        return AuthorizedSession(AnonymousCredentials())

    def create_service_account(self, project_id: str, account_id: str) -> dict[str, Any]:
        """Create an IAM service account over REST; returns the ServiceAccount JSON."""
        response = self.rest().post(
            f"{self.sandbox.url('iam')}/v1/projects/{project_id}/serviceAccounts",
            json={"accountId": account_id, "serviceAccount": {"displayName": account_id}},
        )
        assert response.status_code == 200, response.text
        account: dict[str, Any] = response.json()
        return account

    def compute(self, client: type[Any]) -> Any:
        """A Compute client of the given class (NetworksClient, RoutersClient, …)."""
        return client(**self._kw("compute"))

    def wait(self, operation: Any, project: str, region: str = "", zone: str = "") -> Any:
        """Wait on a Compute operation with a correctly configured operations client.

        google-cloud-compute 1.57's `ExtendedOperation.result()` polls through an operations
        client built without the caller's client_options, i.e. against compute.googleapis.com;
        against any other endpoint the tool must poll (or `wait`) itself, as here.
        """
        name = operation.name
        if zone:
            ops = self.compute(compute_v1.ZoneOperationsClient)
            return ops.wait(project=project, zone=zone, operation=name)
        if region:
            ops = self.compute(compute_v1.RegionOperationsClient)
            return ops.wait(project=project, region=region, operation=name)
        return self.compute(compute_v1.GlobalOperationsClient).wait(project=project, operation=name)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A fresh sandbox in instant mode, state under tmp_path."""
    with Sandbox(tmp_path / "state", latency="instant") as running:
        yield running


@pytest.fixture
def clients(sandbox: Sandbox) -> Clients:
    """Official clients for the sandbox."""
    return Clients(sandbox)


@pytest.fixture
def compute_project(clients: Clients) -> str:
    """A project ready for Compute calls."""
    return clients.ready_project("net-project-1", ["compute.googleapis.com"])
