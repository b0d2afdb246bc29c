"""Policy bundles of the `policycontroller` feature, as the sandbox installs them.

A bundle Google publishes is a set of constraints over library templates, each carrying
`policycontroller.gke.io/constraintData` with its `bundleName` (gkehub v1 discovery:
"The bundle name maps to the `bundleName` key in the `policycontroller.gke.io/constraintData`
annotation on a constraint"). The sandbox evaluates only the library kinds it knows
(`gatekeeper_rules`), so a bundle brings the constraints of those kinds it contains — for every
bundle below, the ban on privileged containers — and Hub reports the bundle ACTIVE. Its other
rules are not simulated. The bundle's exempted namespaces become the constraint's
`excludedNamespaces`.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.controllers.gatekeeper_objects import CONSTRAINTS_GROUP

Obj = dict[str, Any]
DATA_ANNOTATION = "policycontroller.gke.io/constraintData"
BUNDLE_LABEL = "policycontroller.gke.io/bundleName"
PRIVILEGED = "K8sPSPPrivilegedContainer"
# the natively evaluated kinds each bundle contains
BUNDLE_KINDS: dict[str, tuple[str, ...]] = {
    "cis-k8s-v1.5.1": (PRIVILEGED,),
    "nist-sp-800-53-r5": (PRIVILEGED,),
    "nsa-cisa-k8s-v1.2": (PRIVILEGED,),
    "pci-dss-v3.2.1": (PRIVILEGED,),
    "policy-essentials-v2022": (PRIVILEGED,),
    "pss-baseline-v2022": (PRIVILEGED,),
    "pss-restricted-v2022": (PRIVILEGED,),
    "cost-reliability-v2023": (),
}


def bundle_constraints(bundle: str, exempted: list[str]) -> list[Obj]:
    """The constraints the sandbox installs for a bundle (none for an unknown one)."""
    found = []
    for kind in BUNDLE_KINDS.get(bundle, ()):
        match: Obj = {"kinds": [{"apiGroups": [""], "kinds": ["Pod"]}]}
        if exempted:
            match["excludedNamespaces"] = sorted(exempted)
        found.append(
            {
                "apiVersion": f"{CONSTRAINTS_GROUP}/v1beta1",
                "kind": kind,
                "metadata": {
                    "name": f"{bundle.replace('.', '-')}-{kind.lower()}",
                    "labels": {BUNDLE_LABEL: bundle},
                    "annotations": {DATA_ANNOTATION: json.dumps({"bundleName": bundle})},
                },
                "spec": {"enforcementAction": "deny", "match": match},
            }
        )
    return found
