"""Policy Controller through its own fleet feature, as Google has it since 2025, on the
module's cluster (whose Policy Controller was asked for the old way, configmanagement 1.20.1):
the old shape is refused from 1.21, and the cluster moves to the `policycontroller` feature
with no moment where a privileged pod is admitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from google.api_core import exceptions
from google.cloud import gkehub_v1
from google.cloud.gkehub_v1 import configmanagement_v1 as cm
from google.protobuf import field_mask_pb2
from kubernetes import client

from tests.sandbox.conftest import Clients
from tests.sandbox.controllers.fleet_env import (
    MEMBERSHIP,
    POLICY_DIR,
    POLL,
    SYSTEM,
    Fleet,
    config_management_spec,
    eventually,
)

CONSTRAINT = """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-q
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sPSPPrivilegedContainer
metadata:
  name: no-privileged
spec:
  enforcementAction: deny
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
    excludedNamespaces: [kube-system, gatekeeper-system, config-management-system]
"""
GATEKEEPER = "gatekeeper-system"
GCLOUD_DESCRIBE = ("container", "fleet", "policycontroller", "describe")


def _membership(fleet: Fleet) -> str:
    return f"projects/{fleet.number}/locations/global/memberships/{MEMBERSHIP}"


def _set_config_management(fleet: Fleet, spec: gkehub_v1.MembershipFeatureSpec) -> None:
    parent = f"projects/{fleet.project}/locations/global"
    fleet.hub.update_feature(
        name=f"{parent}/features/configmanagement",
        resource=gkehub_v1.Feature(membership_specs={_membership(fleet): spec}),
        update_mask=field_mask_pb2.FieldMask(paths=["membership_specs"]),
    ).result(timeout=10, polling=POLL)


def _features(fleet: Fleet) -> Any:
    """The features of the fleet through the discovery client: google-cloud-gke-hub's v1
    messages have no policycontroller spec."""
    return Clients(fleet.sandbox).discovery("gkehub").projects().locations().features()


def _policy_state(fleet: Fleet) -> dict[str, Any]:
    feature = (
        _features(fleet)
        .get(name=f"projects/{fleet.project}/locations/global/features/policycontroller")
        .execute()
    )
    found: dict[str, Any] = feature.get("membershipStates", {}).get(_membership(fleet), {})
    return found


def _set_policy_controller(fleet: Fleet, install: str) -> None:
    spec = {
        "version": "1.21.0",
        "policyControllerHubConfig": {
            "installSpec": install,
            "policyContent": {"templateLibrary": {"installation": "ALL"}},
            "auditIntervalSeconds": "60",
        },
    }
    _features(fleet).patch(
        name=f"projects/{fleet.project}/locations/global/features/policycontroller",
        updateMask="membershipSpecs",
        body={"membershipSpecs": {_membership(fleet): {"policycontroller": spec}}},
    ).execute()


def _privileged_refused(fleet: Fleet) -> bool:
    pod = {
        "metadata": {"generateName": "root-"},
        "spec": {
            "containers": [
                {"name": "main", "image": "busybox", "securityContext": {"privileged": True}}
            ]
        },
    }
    try:
        created = fleet.core.create_namespaced_pod("team-q", pod)
    except client.ApiException as exc:
        assert exc.status == 403, exc.body
        assert "[no-privileged] Privileged container is not allowed" in exc.body
        return True
    fleet.core.delete_namespaced_pod(created.metadata.name, "team-q")
    return False


def _deployments(fleet: Fleet) -> set[str]:
    found = client.AppsV1Api(fleet.api).list_namespaced_deployment(GATEKEEPER)
    return {d.metadata.name for d in found.items}


def test_old_shape_is_refused_from_version_1_21(fleet: Fleet) -> None:
    repo = "https://github.com/o/r.git"
    for version in ("1.22.1", "1.21.0", ""):
        spec = config_management_spec(repo)
        spec.configmanagement.version = version
        with pytest.raises(exceptions.BadRequest) as refused:
            _set_config_management(fleet, spec)
        assert "PolicyController has its own API" in refused.value.message
    automatic = config_management_spec(repo)
    automatic.configmanagement.version = "1.22.1"
    automatic.configmanagement.policy_controller = cm.PolicyController()
    automatic.configmanagement.management = cm.MembershipSpec.Management.MANAGEMENT_AUTOMATIC
    with pytest.raises(exceptions.BadRequest) as refused:
        _set_config_management(fleet, automatic)
    assert "automatic management is unavailable" in refused.value.message
    stored = fleet.hub.get_feature(
        name=f"projects/{fleet.project}/locations/global/features/configmanagement"
    ).membership_specs[_membership(fleet)]
    assert stored.configmanagement.version == "1.20.1"  # nothing of the refused patches stayed


def test_policy_controller_feature_needs_its_api(fleet: Fleet) -> None:
    services = Clients(fleet.sandbox).services
    name = f"projects/{fleet.project}/services/anthospolicycontroller.googleapis.com"
    services.disable_service(request={"name": name}).result(timeout=10, polling=POLL)
    try:
        with pytest.raises(Exception) as refused:
            _features(fleet).create(
                parent=f"projects/{fleet.project}/locations/global",
                featureId="policycontroller",
                body={},
            ).execute()
        assert "policycontroller feature requires enablement of" in str(refused.value)
    finally:
        services.enable_service(request={"name": name}).result(timeout=10, polling=POLL)


def test_a_cluster_built_the_old_way_moves_without_a_gap(fleet: Fleet, tmp_path: Path) -> None:
    fleet.git_creds(SYSTEM)
    eventually(lambda: "gatekeeper-controller-manager" in _deployments(fleet), "Gatekeeper")
    fleet.synced(fleet.push({f"{POLICY_DIR}/policies.yaml": CONSTRAINT}, "policies"))
    assert eventually(lambda: _privileged_refused(fleet), "the constraint enforced")

    _features(fleet).create(
        parent=f"projects/{fleet.project}/locations/global", featureId="policycontroller", body={}
    ).execute()
    eventually(
        lambda: (
            _features(fleet)
            .get(name=f"projects/{fleet.project}/locations/global/features/policycontroller")
            .execute()["resourceState"]["state"]
            == "ACTIVE"
        ),
        "the policycontroller feature",
    )
    _set_policy_controller(fleet, "INSTALL_SPEC_ENABLED")
    state = eventually(
        lambda: (
            (s := _policy_state(fleet)).get("policycontroller", {}).get("state") == "ACTIVE" and s
        ),
        "Policy Controller ACTIVE through its own feature",
    )
    policy = state["policycontroller"]
    assert policy["componentStates"] == {
        "admission": {"state": "ACTIVE"},
        "audit": {"state": "ACTIVE"},
    }
    assert policy["policyContentState"]["templateLibraryState"] == {"state": "ACTIVE"}
    assert state["state"]["code"] == "OK"
    described = fleet.gcloud(tmp_path, *GCLOUD_DESCRIBE)  # gcloud reads what mlplat reads
    assert described["membershipStates"][_membership(fleet)]["policycontroller"]["state"] == (
        "ACTIVE"
    )

    current = config_management_spec(f"{fleet.github.url}/mlplat/platform-config.git")
    current.configmanagement.version = "1.22.1"
    current.configmanagement.policy_controller = cm.PolicyController()
    _set_config_management(fleet, current)  # the old shape leaves; the new one holds
    for _ in range(5):
        fleet.controllers.run_once()
        assert _privileged_refused(fleet)
    hub = fleet.hub_state().configmanagement
    assert not hub.policy_controller_state.deployment_state.gatekeeper_audit  # not its job now

    _set_policy_controller(fleet, "INSTALL_SPEC_NOT_INSTALLED")  # neither API wants it now
    eventually(lambda: not _privileged_refused(fleet), "Policy Controller uninstalled")
    assert "gatekeeper-controller-manager" not in _deployments(fleet)
    gone = eventually(
        lambda: (
            (s := _policy_state(fleet)).get("policycontroller", {}).get("state") == "NOT_INSTALLED"
            and s
        ),
        "NOT_INSTALLED",
    )
    assert yaml.safe_dump(gone)  # a plain JSON answer


def test_a_bundle_brings_its_constraints_and_reports_its_state(fleet: Fleet) -> None:
    spec = {
        "version": "1.21.0",
        "policyControllerHubConfig": {
            "installSpec": "INSTALL_SPEC_ENABLED",
            "policyContent": {
                "templateLibrary": {"installation": "ALL"},
                "bundles": {"pss-baseline-v2022": {"exemptedNamespaces": ["kube-system"]}},
            },
        },
    }
    _features(fleet).patch(
        name=f"projects/{fleet.project}/locations/global/features/policycontroller",
        updateMask="membershipSpecs",
        body={"membershipSpecs": {_membership(fleet): {"policycontroller": spec}}},
    ).execute()
    state = eventually(
        lambda: (
            (s := _policy_state(fleet).get("policycontroller", {}))
            .get("policyContentState", {})
            .get("bundleStates", {})
            .get("pss-baseline-v2022", {})
            .get("state")
            == "ACTIVE"
            and s
        ),
        "the bundle ACTIVE",
    )
    assert state["state"] == "ACTIVE"
    name = "pss-baseline-v2022-k8spspprivilegedcontainer"
    constraint = fleet.custom.get_cluster_custom_object(
        "constraints.gatekeeper.sh", "v1beta1", "k8spspprivilegedcontainer", name
    )
    assert constraint["spec"]["match"]["excludedNamespaces"] == ["kube-system"]
    with pytest.raises(client.ApiException) as refused:
        fleet.core.create_namespaced_pod(
            "team-q",
            {
                "metadata": {"name": "root"},
                "spec": {
                    "containers": [
                        {"name": "m", "image": "busybox", "securityContext": {"privileged": True}}
                    ]
                },
            },
        )
    assert f"[{name}] Privileged container is not allowed" in refused.value.body

    spec["policyControllerHubConfig"]["policyContent"].pop("bundles")
    _features(fleet).patch(
        name=f"projects/{fleet.project}/locations/global/features/policycontroller",
        updateMask="membershipSpecs",
        body={"membershipSpecs": {_membership(fleet): {"policycontroller": spec}}},
    ).execute()

    def gone() -> bool:
        try:
            fleet.custom.get_cluster_custom_object(
                "constraints.gatekeeper.sh", "v1beta1", "k8spspprivilegedcontainer", name
            )
        except client.ApiException as exc:
            return exc.status == 404
        return False

    eventually(gone, "the bundle's constraint removed")
