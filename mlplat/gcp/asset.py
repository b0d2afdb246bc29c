"""Cloud Asset Inventory: every IAM policy set on a project's service accounts, in one paged
search (so a drift check reads them per project, not per account).

The inventory is eventually consistent (it may lag a change by minutes): callers treat what it
shows as a screen and confirm a difference with a direct read before reporting it."""

from __future__ import annotations

from typing import Any

from mlplat.gcp import clients, discovery_calls
from mlplat.target import Target

SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount"
Policy = dict[str, Any]


def service_account_policies(target: Target, project: str) -> dict[str, Policy]:
    """Unique ID of each service account of `project` whose policy has bindings → its policy."""
    policies: dict[str, Policy] = {}
    token = None
    prefix = f"//iam.googleapis.com/projects/{project}/serviceAccounts/"
    while True:
        page = discovery_calls.execute(
            "cloudasset.v1",
            f"cloudasset/iam-policies of {project}: search",
            lambda token=token: (
                clients.cloud_asset(target)
                .v1()
                .searchAllIamPolicies(  # type: ignore[misc]
                    scope=f"projects/{project}",
                    assetTypes=[SERVICE_ACCOUNT],
                    pageSize=500,
                    pageToken=token,
                )
            ),
        )
        for result in page.get("results", []):
            resource = str(result.get("resource", ""))
            if resource.startswith(prefix):
                policies[resource.removeprefix(prefix)] = result.get("policy", {})
        token = page.get("nextPageToken")
        if not token:
            return policies
