"""Policy Controller through the fleet spec: the template library, constraints from Git enforced
at admission (deny with Gatekeeper's message, warn, dryrun) and reported by the audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from tests.sandbox.controllers.fleet_env import POLICY_DIR, SYSTEM, Fleet, eventually

CONSTRAINTS = f"{POLICY_DIR}/policies.yaml"
POLICIES = """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-p
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
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: team-label
spec:
  enforcementAction: dryrun
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
    namespaces: [team-p]
  parameters:
    labels: [{key: team}]
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sAllowedRepos
metadata:
  name: allowed-repos
spec:
  enforcementAction: warn
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
    namespaces: [team-p]
  parameters:
    repos: [us-docker.pkg.dev/ml/]
"""
GK = ("constraints.gatekeeper.sh", "v1beta1")


def _pod(name: str, image: str, privileged: bool = False) -> dict[str, object]:
    container: dict[str, object] = {"name": "main", "image": image}
    if privileged:
        container["securityContext"] = {"privileged": True}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container]},
    }


def _constraint(fleet: Fleet, kind: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = fleet.custom.get_cluster_custom_object(*GK, kind, name)
    return found


def _audited(fleet: Fleet, kind: str, name: str, at: str) -> dict[str, Any] | None:
    """The constraint's status once the audit at `at` has reported on it."""
    status = _constraint(fleet, kind, name).get("status") or {}
    return status if status.get("auditTimestamp") == at else None


def _template(fleet: Fleet, name: str) -> dict[str, Any] | None:
    found: dict[str, Any] = fleet.custom.get_cluster_custom_object(
        "templates.gatekeeper.sh", "v1", "constrainttemplates", name
    )
    return found if (found.get("status") or {}).get("created") else None


def test_constraints_deny_warn_and_audit(fleet: Fleet, tmp_path: Path) -> None:
    fleet.git_creds(SYSTEM)
    for template in ("k8spspprivilegedcontainer", "k8srequiredlabels", "k8sallowedrepos"):
        found = eventually(lambda t=template: _template(fleet, t), f"template {template}")
        assert found["metadata"]["labels"]["configmanagement.gke.io/configmanagement"]
        eventually(
            lambda t=template: client.ApiextensionsV1Api(fleet.api).read_custom_resource_definition(
                f"{t}.constraints.gatekeeper.sh"
            ),
            f"constraint CRD of {template}",
        )
    assert client.CoreV1Api(fleet.api).read_namespace("gatekeeper-system")
    fleet.synced(fleet.push({CONSTRAINTS: POLICIES}, "policies"))

    with pytest.raises(client.ApiException) as denied:
        fleet.core.create_namespaced_pod("team-p", _pod("root", "us-docker.pkg.dev/ml/x", True))
    assert denied.value.status == 403
    assert yaml.safe_load(denied.value.body)["message"] == (
        'admission webhook "validation.gatekeeper.sh" denied the request: [no-privileged] '
        'Privileged container is not allowed: main, securityContext: {"privileged": true}'
    )
    # kube-system is excluded from the constraint.
    fleet.core.create_namespaced_pod("kube-system", _pod("root", "registry.k8s.io/pause", True))

    done = fleet.kubectl(
        tmp_path,
        "apply",
        "-n",
        "team-p",
        "-f",
        "-",
        stdin=yaml.safe_dump(_pod("unlabelled", "docker.io/library/busybox")),
    )
    assert done.returncode == 0, done.stderr  # dryrun and warn admit it…
    assert (
        "Warning: [allowed-repos] container <main> has an invalid image repo "
        '<docker.io/library/busybox>, allowed repos are ["us-docker.pkg.dev/ml/"]'
    ) in done.stderr  # …with the warning

    fleet.sandbox.rt.advance(60)  # the audit period
    labels = eventually(
        lambda: (
            (_constraint(fleet, "k8srequiredlabels", "team-label").get("status") or {}).get(
                "totalViolations"
            )
            and _constraint(fleet, "k8srequiredlabels", "team-label")["status"]
        ),
        "audit of team-label",
    )
    assert labels["totalViolations"] == 1
    assert labels["violations"] == [
        {
            "enforcementAction": "dryrun",
            "group": "",
            "version": "v1",
            "kind": "Pod",
            "name": "unlabelled",
            "namespace": "team-p",
            "message": 'you must provide labels: {"team"}',
        }
    ]
    assert labels["byPod"][0]["enforced"] is True
    at = labels["auditTimestamp"]
    privileged = eventually(
        lambda: _audited(fleet, "k8spspprivilegedcontainer", "no-privileged", at), "audit"
    )
    assert privileged["totalViolations"] == 0  # the kube-system pod is excluded
    repos = eventually(lambda: _audited(fleet, "k8sallowedrepos", "allowed-repos", at), "audit")
    assert [v["name"] for v in repos["violations"]] == ["unlabelled"]

    state = fleet.hub_state().configmanagement.policy_controller_state
    assert state.deployment_state.gatekeeper_audit == 2  # INSTALLED
