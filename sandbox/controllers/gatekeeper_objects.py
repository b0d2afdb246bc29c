"""What Policy Controller puts in a cluster: Gatekeeper's namespace, ConstraintTemplate CRD and
deployments, and (with the template library) the templates the platform's constraints use.

The templates' Rego is descriptive only: the sandbox evaluates the three library kinds natively
(`gatekeeper_rules`).
"""

from __future__ import annotations

from typing import Any

from sandbox.controllers.configsync_objects import deployment
from sandbox.controllers.crd_manifests import crd

Obj = dict[str, Any]
NAMESPACE = "gatekeeper-system"
TEMPLATES_GROUP = "templates.gatekeeper.sh"
TEMPLATE_API = f"{TEMPLATES_GROUP}/v1"
CONSTRAINTS_GROUP = "constraints.gatekeeper.sh"
IGNORE_LABEL = "admission.gatekeeper.sh/ignore"
LIBRARY_LABELS = {"configmanagement.gke.io/configmanagement": "config-management"}
TARGET = "admission.k8s.gatekeeper.sh"
_IMAGE = "gcr.io/config-management-release/gatekeeper"
_STRINGS = {"type": "array", "items": {"type": "string"}}
LIBRARY: dict[str, tuple[Obj, str]] = {
    "K8sPSPPrivilegedContainer": (
        {"type": "object", "properties": {"exemptImages": _STRINGS}},
        "Containers and init containers must not run privileged.",
    ),
    "K8sRequiredLabels": (
        {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "labels": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "key": {"type": "string"},
                            "allowedRegex": {"type": "string"},
                        },
                    },
                },
            },
        },
        "Objects must carry the listed labels, their values matching allowedRegex when given.",
    ),
    "K8sAllowedRepos": (
        {"type": "object", "properties": {"repos": _STRINGS}},
        "Container images must start with one of the listed repository prefixes.",
    ),
}


def base_objects(version: str) -> list[Obj]:
    """Gatekeeper's namespace, the ConstraintTemplate CRD, the webhook and audit deployments."""
    labels = {"control-plane": "controller-manager", IGNORE_LABEL: "no-self-managing"}
    objects: list[Obj] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": labels},
        },
        crd(
            TEMPLATES_GROUP,
            "ConstraintTemplate",
            "constrainttemplates",
            ["v1beta1", "v1"],
            namespaced=False,
            short_names=("ct",),
        ),
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "gatekeeper-admin", "namespace": NAMESPACE},
        },
    ]
    for name in ("gatekeeper-controller-manager", "gatekeeper-audit"):
        container = {
            "name": "manager",
            "image": f"{_IMAGE}:v{version}",
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        }
        objects.append(deployment(name, NAMESPACE, "gatekeeper-admin", [container]))
    return objects


def template(kind: str, parameters: Obj, description: str) -> Obj:
    """A ConstraintTemplate defining the constraint kind `kind`."""
    package = kind.lower()
    rego = f"package {package}\n\n# {description}\n# (evaluated natively by the sandbox)\n"
    return {
        "apiVersion": TEMPLATE_API,
        "kind": "ConstraintTemplate",
        "metadata": {
            "name": package,
            "labels": LIBRARY_LABELS,
            "annotations": {"description": description},
        },
        "spec": {
            "crd": {
                "spec": {
                    "names": {"kind": kind},
                    "validation": {"openAPIV3Schema": parameters},
                }
            },
            "targets": [{"target": TARGET, "rego": rego}],
        },
    }


def template_library() -> list[Obj]:
    """The library templates the sandbox enforces."""
    return [template(kind, params, text) for kind, (params, text) in LIBRARY.items()]


def constraint_crd(kind: str) -> Obj:
    """The CRD Gatekeeper makes for a template's constraint kind."""
    return crd(
        CONSTRAINTS_GROUP,
        kind,
        kind.lower(),
        ["v1alpha1", "v1", "v1beta1"],
        namespaced=False,
        categories=("constraint", "constraints"),
        columns=(
            ("Enforcement-Action", ".spec.enforcementAction"),
            ("Total-Violations", ".status.totalViolations"),
        ),
        labels={"gatekeeper.sh/constraint": "yes"},
    )
