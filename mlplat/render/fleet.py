"""Fleet membership of the cluster and its Config Sync + Policy Controller spec."""

from __future__ import annotations

from typing import Any

from mlplat import naming
from mlplat.render.desired import Desired, ownership_labels
from mlplat.specs import Environment, Platform

CONFIG_MANAGEMENT_FEATURE = "configmanagement"
ROOT_POLICY_DIR = "manifests/clusters"


def membership(platform: Platform, env: Environment, project: str) -> Desired:
    """The cluster's fleet membership (the Connect Gateway reaches the cluster through it)."""
    cluster = naming.cluster_name(platform, env)
    link = (
        f"//container.googleapis.com/projects/{project}/locations/"
        f"{naming.region(platform, env)}/clusters/{cluster}"
    )
    return Desired(
        kind="fleet/membership",
        name=naming.membership_id(platform, env),
        body={
            "endpoint": {"gkeCluster": {"resourceLink": link}},
            "labels": ownership_labels(platform.name, env.name),
        },
        immutable=("endpoint.gkeCluster.resourceLink",),
    )


def config_management_feature(platform: Platform, env: Environment, project: str) -> Desired:
    """The fleet-wide `configmanagement` feature of the environment's project."""
    return Desired(
        kind="fleet/feature",
        name=f"{project}/{CONFIG_MANAGEMENT_FEATURE}",
        body={"labels": ownership_labels(platform.name)},
    )


def config_management_spec(platform: Platform, env: Environment, repo_url: str) -> Desired:
    """Config Sync from the env's branch (unstructured, token auth via `git-creds`) and
    Policy Controller with the template library (the constraints come through Git)."""
    spec: dict[str, Any] = {
        "version": platform.versions.config_sync,
        "configSync": {
            "enabled": True,
            "sourceFormat": "unstructured",
            "git": {
                "syncRepo": repo_url,
                "syncBranch": naming.config_sync_branch(env),
                "policyDir": ROOT_POLICY_DIR,
                "secretType": "token",
            },
        },
        "policyController": {
            "enabled": env.policy_controller.enabled,
            "templateLibraryInstalled": env.policy_controller.template_library,
            "referentialRulesEnabled": env.policy_controller.referential_rules,
        },
    }
    return Desired(
        kind="fleet/configmanagement",
        name=naming.membership_id(platform, env),
        body=spec,
    )
