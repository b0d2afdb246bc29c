"""Policy Controller constraints that enforce the platform's security policies (the seed
installed the template library and no constraint). Kinds come from the template library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlplat.render.desired import MANAGED_BY_VALUE, PART_OF_LABEL
from mlplat.specs.models import Policies

Manifest = dict[str, Any]

CONSTRAINTS_GROUP = "constraints.gatekeeper.sh/v1beta1"
SYSTEM_NAMESPACES = (
    "config-management-system",
    "gatekeeper-system",
    "kube-system",
    "kube-public",
    "kuberay-system",
)


def constraints(policies: Policies, team_namespaces: Sequence[str]) -> list[Manifest]:
    """The platform's constraints; team rules apply to the teams' namespaces only."""
    action = policies.enforcement.value
    found: list[Manifest] = []
    if policies.forbid_privileged:
        found.append(
            _constraint(
                "K8sPSPPrivilegedContainer",
                "mlplat-no-privileged",
                action,
                {
                    "kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
                    "excludedNamespaces": list(SYSTEM_NAMESPACES),
                },
                {},
            )
        )
    namespaces = sorted(team_namespaces)
    if namespaces:
        found.append(
            _constraint(
                "K8sAllowedRepos",
                "mlplat-allowed-registries",
                action,
                {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}], "namespaces": namespaces},
                {"repos": list(policies.allowed_registries)},
            )
        )
        found.append(
            _constraint(
                "K8sRequiredLabels",
                "mlplat-team-labels",
                action,
                {
                    "kinds": [
                        {"apiGroups": [""], "kinds": ["Pod"]},
                        {"apiGroups": ["ray.io"], "kinds": ["RayCluster"]},
                    ],
                    "namespaces": namespaces,
                },
                {"labels": [{"key": key} for key in policies.required_team_labels]},
            )
        )
    return found


def _constraint(
    kind: str, name: str, action: str, match: dict[str, Any], parameters: dict[str, Any]
) -> Manifest:
    spec: dict[str, Any] = {"enforcementAction": action, "match": match}
    if parameters:
        spec["parameters"] = parameters
    return {
        "apiVersion": CONSTRAINTS_GROUP,
        "kind": kind,
        "metadata": {"name": name, "labels": {PART_OF_LABEL: MANAGED_BY_VALUE}},
        "spec": spec,
    }
