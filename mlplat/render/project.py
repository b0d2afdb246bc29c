"""Project, billing link and enabled APIs of an environment."""

from __future__ import annotations

from mlplat.render.desired import Desired, ownership_labels
from mlplat.specs import Environment, Platform, naming

REQUIRED_SERVICES: tuple[str, ...] = (
    "anthosconfigmanagement.googleapis.com",
    "anthospolicycontroller.googleapis.com",  # Policy Controller's own fleet feature
    "cloudasset.googleapis.com",  # the drift check's one search for the accounts' policies
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "connectgateway.googleapis.com",  # the seed forgot it, yet used the Connect Gateway
    "container.googleapis.com",
    "gkeconnect.googleapis.com",  # likewise
    "gkehub.googleapis.com",
    "iam.googleapis.com",
    "serviceusage.googleapis.com",
)


def project(platform: Platform, env: Environment) -> Desired:
    """The environment's project under the platform's folder or organization."""
    project_id = naming.project_id(platform, env)
    return Desired(
        kind="project",
        name=project_id,
        body={
            "projectId": project_id,
            "parent": platform.parent.resource_name,
            "displayName": f"{platform.name} {env.name}",
            "labels": {**platform.labels, **ownership_labels(platform.name, env.name)},
        },
    )


def billing(platform: Platform, env: Environment) -> Desired:
    """The project's billing link."""
    return Desired(
        kind="project/billing",
        name=naming.project_id(platform, env),
        body={"billingAccountName": f"billingAccounts/{platform.billing_account}"},
    )


def services() -> tuple[str, ...]:
    """APIs every environment project needs, sorted."""
    return REQUIRED_SERVICES
