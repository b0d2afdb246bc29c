"""The three library constraint kinds the sandbox enforces, evaluated natively.

- K8sRequiredLabels: `parameters.labels[].key` must be labels of the object, matching
  `allowedRegex` when given (`parameters.message` replaces the message).
- K8sAllowedRepos: every container image of a Pod starts with one of `parameters.repos`.
- K8sPSPPrivilegedContainer: no container or init container of a Pod runs privileged
  (images listed in `parameters.exemptImages` excepted).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Rule = Callable[[Obj, Obj], list[str]]


def _rego(value: Any) -> str:
    """A value as Rego's sprintf `%v` prints it (sets and arrays of strings, objects)."""
    return json.dumps(value, separators=(", ", ": "))


def _containers(obj: Obj, init: bool = True) -> list[Obj]:
    if obj.get("kind") != "Pod":
        return []
    spec = obj.get("spec") or {}
    fields = ("containers", "initContainers", "ephemeralContainers") if init else ("containers",)
    return [c for field in fields for c in spec.get(field) or [] if isinstance(c, dict)]


def required_labels(params: Obj, obj: Obj) -> list[str]:
    """Missing labels, or labels whose value the allowed regex refuses."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    wanted = [w for w in params.get("labels") or [] if isinstance(w, dict) and w.get("key")]
    missing = sorted({str(w["key"]) for w in wanted} - set(labels))
    custom = params.get("message")
    found: list[str] = []
    if missing:
        listed = "{" + ", ".join(json.dumps(key) for key in missing) + "}"
        found.append(str(custom) if custom else f"you must provide labels: {listed}")
    for rule in wanted:
        key, pattern = str(rule["key"]), rule.get("allowedRegex")
        if pattern and key in labels and not re.search(str(pattern), str(labels[key])):
            text = f"Label <{key}: {labels[key]}> does not satisfy allowed regex: {pattern}"
            found.append(str(custom) if custom else text)
    return found


def allowed_repos(params: Obj, obj: Obj) -> list[str]:
    """Containers whose image starts with none of the allowed repositories."""
    repos = [str(r) for r in params.get("repos") or []]
    found = []
    for container in _containers(obj):
        image = str(container.get("image") or "")
        if not any(image.startswith(repo) for repo in repos):
            found.append(
                f"container <{container.get('name')}> has an invalid image repo <{image}>, "
                f"allowed repos are {_rego(repos)}"
            )
    return found


def privileged_containers(params: Obj, obj: Obj) -> list[str]:
    """Containers asking for a privileged security context."""
    exempt = [str(i) for i in params.get("exemptImages") or []]
    found = []
    for container in _containers(obj):
        context = container.get("securityContext") or {}
        image = str(container.get("image") or "")
        exempted = any(image == e or (e.endswith("*") and image.startswith(e[:-1])) for e in exempt)
        if context.get("privileged") is True and not exempted:
            found.append(
                f"Privileged container is not allowed: {container.get('name')}, "
                f"securityContext: {_rego(context)}"
            )
    return found


RULES: dict[str, Rule] = {
    "K8sRequiredLabels": required_labels,
    "K8sAllowedRepos": allowed_repos,
    "K8sPSPPrivilegedContainer": privileged_containers,
}


def violations(constraint: Obj, obj: Obj) -> list[str]:
    """What `constraint` (of a supported kind) finds wrong with `obj`."""
    rule = RULES.get(str(constraint.get("kind")))
    if rule is None:
        return []
    params = (constraint.get("spec") or {}).get("parameters") or {}
    return rule(params if isinstance(params, dict) else {}, obj)
