"""Fleet membership of the cluster, its Config Sync spec (`configmanagement` feature) and its
Policy Controller spec (`policycontroller` feature: since 2025 Policy Controller has its own
fleet API, and `configmanagement` 1.21+ refuses to install it)."""

from __future__ import annotations

from typing import Any

from mlplat.render.desired import Desired, ownership_labels
from mlplat.specs import Environment, Platform, naming

CONFIG_MANAGEMENT_FEATURE = "configmanagement"
POLICY_CONTROLLER_FEATURE = "policycontroller"
LEGACY_POLICY_CONTROLLER = "policyController"  # inside configmanagement, before 1.21
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
    )


def feature(platform: Platform, project: str, feature_id: str) -> Desired:
    """A fleet-wide feature of the environment's project (memberships get specs later)."""
    return Desired(
        kind="fleet/feature",
        name=f"{project}/{feature_id}",
        body={"labels": ownership_labels(platform.name)},
    )


def config_management_spec(platform: Platform, env: Environment, repo_url: str) -> Desired:
    """Config Sync only, from the env's branch (unstructured, token auth via `git-creds`),
    enabled explicitly, with drift prevention as the spec says, at the pinned version. No
    `management` field: clearing it means manual upgrades (automatic is gone from 1.21)."""
    spec: dict[str, Any] = {
        "version": platform.versions.config_sync,
        "configSync": {
            "enabled": True,
            "preventDrift": env.config_sync.prevent_drift,
            "sourceFormat": "unstructured",
            "git": {
                "syncRepo": repo_url,
                "syncBranch": naming.config_sync_branch(env),
                "policyDir": ROOT_POLICY_DIR,
                "secretType": "token",
            },
        },
    }
    return Desired(
        kind="fleet/configmanagement",
        name=naming.membership_id(platform, env),
        body=spec,
    )


def policy_controller_spec(platform: Platform, env: Environment) -> Desired:
    """The membership's `policycontroller` spec: installed (or not) with the template library,
    referential rules, audit interval, logged denies, exemptable namespaces and bundles."""
    wanted = env.policy_controller
    content: dict[str, Any] = {
        "templateLibrary": {"installation": "ALL" if wanted.template_library else "NOT_INSTALLED"}
    }
    if wanted.bundles:
        exempted = sorted(wanted.exemptable_namespaces)
        content["bundles"] = {
            bundle.value: {"exemptedNamespaces": exempted} for bundle in sorted(wanted.bundles)
        }
    config: dict[str, Any] = {
        "installSpec": "INSTALL_SPEC_ENABLED" if wanted.enabled else "INSTALL_SPEC_NOT_INSTALLED",
        "policyContent": content,
        "referentialRulesEnabled": wanted.referential_rules,
        "auditIntervalSeconds": str(wanted.audit_interval_seconds),
        "logDeniesEnabled": wanted.log_denies,
        "exemptableNamespaces": sorted(wanted.exemptable_namespaces),
    }
    return Desired(
        kind="fleet/policycontroller",
        name=naming.membership_id(platform, env),
        body={"version": platform.versions.policy_controller, "policyControllerHubConfig": config},
    )
