"""Cloud Asset Inventory `searchAllIamPolicies` through google-api-python-client: service
account and project policies, paging, asset type and query filters, and the errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.sandbox.conftest import Clients

PROJECT = "asset-project-1"
ASSET = "cloudasset.googleapis.com"
SA_TYPE = "iam.googleapis.com/ServiceAccount"
PROJECT_TYPE = "cloudresourcemanager.googleapis.com/Project"
USER = "roles/iam.serviceAccountUser"


class Inventory:
    """The Cloud Asset client, and IAM over REST to give accounts policies."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self.asset = clients.discovery("cloudasset")
        self.session = clients.rest()
        self.iam = clients.sandbox.url("iam") + "/v1/"

    def search(self, scope: str = f"projects/{PROJECT}", **params: Any) -> dict[str, Any]:
        request = self.asset.v1().searchAllIamPolicies(scope=scope, **params)
        answer: dict[str, Any] = request.execute(num_retries=0)
        return answer

    def error(self, scope: str = f"projects/{PROJECT}", **params: Any) -> tuple[int, Any]:
        with pytest.raises(HttpError) as caught:
            self.search(scope, **params)
        return int(caught.value.resp.status), json.loads(caught.value.content)["error"]

    def account(self, account_id: str, members: list[str] | None = None) -> dict[str, Any]:
        """A new account of PROJECT, granting USER to `members` when given."""
        account = self.clients.create_service_account(PROJECT, account_id)
        if members:
            policy = {"bindings": [{"role": USER, "members": members}]}
            self.call("POST", f"{account['email']}:setIamPolicy", {"policy": policy})
        return account

    def call(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.iam}projects/{PROJECT}/serviceAccounts/{path}"
        response = self.session.request(method, url, json=body)
        assert response.status_code == 200, response.text
        return response.json()


def _enable(clients: Clients, project: str, services: list[str]) -> None:
    request = {"parent": f"projects/{project}", "service_ids": services}
    clients.services.batch_enable_services(request=request).result(timeout=10)


@pytest.fixture
def inventory(clients: Clients) -> Inventory:
    """PROJECT with IAM and Cloud Asset enabled (neither needs billing)."""
    clients.create_project(PROJECT)
    _enable(clients, PROJECT, ["iam.googleapis.com", ASSET])
    return Inventory(clients)


def _number(clients: Clients, project: str) -> str:
    return str(clients.projects.get_project(name=f"projects/{project}").name).split("/")[1]


def test_account_policies_by_unique_id(clients: Clients, inventory: Inventory) -> None:
    bound = inventory.account("ray-worker", ["user:alice@example.com", "group:ml@example.com"])
    inventory.account("idle-account")  # never given a binding: not shown
    answer = inventory.search(assetTypes=[SA_TYPE])
    assert answer == {
        "results": [
            {
                "resource": f"//iam.googleapis.com/projects/{PROJECT}/serviceAccounts/"
                f"{bound['uniqueId']}",
                "assetType": SA_TYPE,
                "project": f"projects/{_number(clients, PROJECT)}",
                "folders": ["folders/100"],
                "policy": {
                    "bindings": [
                        {
                            "role": USER,
                            "members": ["group:ml@example.com", "user:alice@example.com"],
                        }
                    ]
                },
            }
        ]
    }


def test_deleted_and_emptied_accounts_disappear(inventory: Inventory) -> None:
    kept = inventory.account("kept-account", ["user:alice@example.com"])
    gone = inventory.account("gone-account", ["user:alice@example.com"])
    emptied = inventory.account("emptied-account", ["user:alice@example.com"])
    inventory.call("DELETE", gone["email"])
    inventory.call("POST", f"{emptied['email']}:setIamPolicy", {"policy": {"bindings": []}})
    resources = [r["resource"] for r in inventory.search(assetTypes=[SA_TYPE])["results"]]
    assert resources == [
        f"//iam.googleapis.com/projects/{PROJECT}/serviceAccounts/{kept['uniqueId']}"
    ]


def test_project_policy_and_both_types_by_default(clients: Clients, inventory: Inventory) -> None:
    account = inventory.account("ray-worker", ["user:alice@example.com"])
    number = _number(clients, PROJECT)
    only_project = inventory.search(scope=f"projects/{number}", assetTypes=[PROJECT_TYPE])
    assert only_project["results"] == [
        {
            "resource": f"//cloudresourcemanager.googleapis.com/projects/{number}",
            "assetType": PROJECT_TYPE,
            "project": f"projects/{number}",
            "folders": ["folders/100"],
            "policy": {
                "bindings": [{"role": "roles/owner", "members": ["user:sandbox@example.com"]}]
            },
        }
    ]
    both = inventory.search()["results"]
    assert [r["assetType"] for r in both] == [PROJECT_TYPE, SA_TYPE]  # sorted by resource
    assert both[1]["resource"].endswith(f"/serviceAccounts/{account['uniqueId']}")
    patterns = inventory.search(assetTypes=["iam.googleapis.com.*"])["results"]
    assert [r["assetType"] for r in patterns] == [SA_TYPE]
    descending = inventory.search(orderBy="assetType DESC")["results"]
    assert [r["assetType"] for r in descending] == [SA_TYPE, PROJECT_TYPE]


def test_pages_over_five_accounts(clients: Clients, inventory: Inventory) -> None:
    accounts = [inventory.account(f"worker-{i}", [f"user:u{i}@example.com"]) for i in range(5)]
    expected = sorted(
        f"//iam.googleapis.com/projects/{PROJECT}/serviceAccounts/{a['uniqueId']}" for a in accounts
    )
    clients.admin("POST", "/counters/reset")
    seen: list[str] = []
    pages: list[int] = []
    request = inventory.asset.v1().searchAllIamPolicies(
        scope=f"projects/{PROJECT}", assetTypes=[SA_TYPE], pageSize=2
    )
    while request is not None:
        answer = request.execute(num_retries=0)
        pages.append(len(answer["results"]))
        seen.extend(r["resource"] for r in answer["results"])
        request = inventory.asset.v1().searchAllIamPolicies_next(request, answer)
    assert pages == [2, 2, 1]
    assert seen == expected
    counted = clients.admin("GET", "/counters")["methods"]["cloudasset.searchAllIamPolicies"]
    assert counted == {"count": 3, "reads": 3, "writes": 0, "errors": 0}
    capped = inventory.search(assetTypes=[SA_TYPE], pageSize=100_000)
    assert len(capped["results"]) == 5 and "nextPageToken" not in capped


def test_policy_query_keeps_matching_bindings(inventory: Inventory) -> None:
    account = inventory.account("ray-worker")
    policy = {
        "bindings": [
            {"role": USER, "members": ["user:alice@example.com"]},
            {"role": "roles/iam.serviceAccountTokenCreator", "members": ["user:bob@example.com"]},
        ]
    }
    inventory.call("POST", f"{account['email']}:setIamPolicy", {"policy": policy})
    found = inventory.search(query="policy:Alice@example.com")["results"]
    assert [r["policy"] for r in found] == [
        {"bindings": [{"role": USER, "members": ["user:alice@example.com"]}]}
    ]
    by_role = inventory.search(query='policy:"roles/iam.serviceAccountToken*"')["results"]
    assert [b["members"] for b in by_role[0]["policy"]["bindings"]] == [["user:bob@example.com"]]
    assert inventory.search(query="policy:nobody@example.com") == {}


def test_service_disabled_until_cloud_asset_is_enabled(clients: Clients) -> None:
    created = clients.create_project("asset-project-0")
    inventory = Inventory(clients)
    status, error = inventory.error("projects/asset-project-0")
    assert status == 403
    assert error["details"][0]["reason"] == "SERVICE_DISABLED"
    assert error["details"][0]["metadata"]["service"] == ASSET
    assert error["details"][0]["metadata"]["consumer"] == created.name
    _enable(clients, "asset-project-0", [ASSET])
    assert inventory.search("projects/asset-project-0")["results"][0]["assetType"] == PROJECT_TYPE


def test_bad_requests(inventory: Inventory) -> None:
    status, error = inventory.error("projects/no-such-project")
    assert (status, error["status"]) == (403, "PERMISSION_DENIED")
    status, error = inventory.error(query="name:ray-worker")
    assert (status, error["status"]) == (400, "INVALID_ARGUMENT")
    assert "name:ray-worker" in error["message"]
    status, error = inventory.error(assetTypes=["storage.googleapis.com/Bucket"])
    assert (status, error["status"]) == (400, "INVALID_ARGUMENT")
    status, _ = inventory.error("folders/100")
    assert status == 400
    status, _ = inventory.error(orderBy="policy")
    assert status == 400
