"""Per-kind checks and server defaults applied before an object is stored.

Not all of Kubernetes' validation: names, the checks mlplat's objects meet (Secret data is
base64, roleRef and selectors are immutable, a Deployment's selector matches its template),
and the defaults a real server adds so that "compare only declared fields" is exercised.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any

from sandbox.k8s.crds import validate_crd
from sandbox.k8s.enums import enum_problems, unsupported
from sandbox.k8s.errors import bad_request, invalid
from sandbox.k8s.kinds import Kind
from sandbox.k8s.selectors import match_label_selector

Obj = dict[str, Any]
_SUBDOMAIN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_ANNOTATIONS_BYTES = 262144  # what kubectl's last-applied-configuration trips on for big CRDs
_LABEL_KINDS = frozenset({"Namespace", "Service"})
_PATH_SEGMENT_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _name_problem(kind: Kind, name: str) -> str:
    if kind.kind in _PATH_SEGMENT_KINDS:
        if name in (".", "..") or "/" in name or "%" in name:
            return f"Invalid value: \"{name}\": may not contain '/' or '%'"
        return ""
    if kind.kind in _LABEL_KINDS:
        if len(name) > 63 or not re.fullmatch(_LABEL, name):
            return (
                f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower case '
                "alphanumeric characters or '-', and must start and end with an alphanumeric "
                f"character (e.g. 'my-name',  or '123-abc', regex used for validation is "
                f"'{_LABEL}')"
            )
        return ""
    if len(name) > 253 or not re.fullmatch(_SUBDOMAIN, name):
        return (
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case '
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            f"character (e.g. 'example.com', regex used for validation is '{_SUBDOMAIN}')"
        )
    return ""


def check_name(kind: Kind, obj: Obj) -> None:
    """422 when metadata.name is missing or not a valid name for the kind."""
    name = obj.get("metadata", {}).get("name", "")
    if not name:
        raise invalid(
            kind, "", [("metadata.name", "Required value: name or generateName is required")]
        )
    problem = _name_problem(kind, name)
    if problem:
        raise invalid(kind, name, [("metadata.name", problem)])


def _secret(kind: Kind, obj: Obj, old: Obj | None) -> None:
    data = obj.get("data") or {}
    for key, value in data.items():
        try:
            base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data '
                f"at input byte {_bad_byte(str(value))} (key {key!r})"
            ) from None
    for key, value in (obj.pop("stringData", None) or {}).items():
        data[key] = base64.b64encode(str(value).encode()).decode()
    if data:
        obj["data"] = data
    obj.setdefault("type", "Opaque")
    if old is not None and old.get("type") != obj.get("type"):
        raise invalid(
            kind, obj["metadata"]["name"], [("type", "Invalid value: field is immutable")]
        )


def _bad_byte(value: str) -> int:
    for index, char in enumerate(value):
        if not (char.isalnum() or char in "+/="):
            return index
    return len(value)


def _immutable_data(kind: Kind, obj: Obj, old: Obj | None) -> None:
    if old is None or not old.get("immutable"):
        return
    for field in ("data", "binaryData", "immutable"):
        if obj.get(field) != old.get(field):
            message = "Forbidden: field is immutable when `immutable` is set"
            raise invalid(kind, obj["metadata"]["name"], [(field, message)])


def _binding(kind: Kind, obj: Obj, old: Obj | None) -> None:
    name = obj["metadata"]["name"]
    ref = obj.get("roleRef")
    if not isinstance(ref, dict) or not ref.get("name") or not ref.get("kind"):
        raise invalid(kind, name, [("roleRef.name", "Required value")])
    if old is not None and old.get("roleRef") != ref:
        shown = (
            f'rbac.RoleRef{{APIGroup:"{ref.get("apiGroup", "")}", Kind:"{ref.get("kind")}", '
            f'Name:"{ref.get("name")}"}}'
        )
        raise invalid(kind, name, [("roleRef", f"Invalid value: {shown}: cannot change roleRef")])
    for index, subject in enumerate(obj.get("subjects") or []):
        if subject.get("kind") == "ServiceAccount" and not subject.get("namespace"):
            if kind.kind == "RoleBinding":
                subject["namespace"] = obj["metadata"].get("namespace", "")
            else:
                raise invalid(kind, name, [(f"subjects[{index}].namespace", "Required value")])


def _role(kind: Kind, obj: Obj, old: Obj | None) -> None:
    for index, rule in enumerate(obj.get("rules") or []):
        if not rule.get("verbs"):
            raise invalid(
                kind,
                obj["metadata"]["name"],
                [
                    (
                        f"rules[{index}].verbs",
                        "Required value: verbs must contain at least one value",
                    )
                ],
            )


def _namespace(kind: Kind, obj: Obj, old: Obj | None) -> None:
    name = obj["metadata"]["name"]
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def _service(kind: Kind, obj: Obj, old: Obj | None) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if spec["type"] != "ExternalName" and "clusterIP" not in spec:
        digest = hashlib.sha256(
            f"{obj['metadata'].get('namespace')}/{obj['metadata']['name']}".encode()
        ).digest()
        spec["clusterIP"] = f"10.{96 + digest[0] % 16}.{digest[1]}.{digest[2] or 1}"
        spec["clusterIPs"] = [spec["clusterIP"]]
    if old is not None and "clusterIP" in (old.get("spec") or {}):
        spec["clusterIP"] = old["spec"]["clusterIP"]
        spec["clusterIPs"] = old["spec"].get("clusterIPs", [spec["clusterIP"]])
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _deployment(kind: Kind, obj: Obj, old: Obj | None) -> None:
    name = obj["metadata"]["name"]
    spec = obj.setdefault("spec", {})
    selector = spec.get("selector")
    if not selector:
        raise invalid(kind, name, [("spec.selector", "Required value")])
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if not match_label_selector(selector, labels):
        raise invalid(
            kind,
            name,
            [
                (
                    "spec.template.metadata.labels",
                    f"Invalid value: {labels}: `selector` does not match template `labels`",
                )
            ],
        )
    if old is not None and (old.get("spec") or {}).get("selector") != selector:
        raise invalid(
            kind, name, [("spec.selector", f"Invalid value: {selector}: field is immutable")]
        )
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.get("strategy") or {}
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")
    spec["strategy"] = strategy
    _template_restart_policy(kind, obj, ("Always",))


def _template_restart_policy(kind: Kind, obj: Obj, allowed: tuple[str, ...]) -> None:
    """A workload's pod template may only restart its containers as the controller expects
    (a missing policy is the Pod default, Always)."""
    pod = ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}
    policy = pod.get("restartPolicy") or "Always"
    if policy not in allowed:
        where = "spec.template.spec.restartPolicy"
        raise invalid(kind, obj["metadata"]["name"], [(where, unsupported(policy, allowed))])


_JOB_NAME = "batch.kubernetes.io/job-name"
_CONTROLLER_UID = "batch.kubernetes.io/controller-uid"


def _job(kind: Kind, obj: Obj, old: Obj | None) -> None:
    """A Job's generated selector and template labels, and the defaults of batch/v1."""
    metadata, spec = obj["metadata"], obj.setdefault("spec", {})
    template = spec.setdefault("template", {})
    if old is not None:
        was = old.get("spec") or {}
        spec.setdefault("selector", was.get("selector"))
        if spec.get("selector") != was.get("selector"):
            selector = spec.get("selector")
            raise invalid(
                kind,
                metadata["name"],
                [("spec.selector", f"Invalid value: {selector}: field is immutable")],
            )
    elif not spec.get("manualSelector"):
        uid, name = metadata["uid"], metadata["name"]
        generated = {_CONTROLLER_UID: uid, _JOB_NAME: name, "controller-uid": uid, "job-name": name}
        labels = template.setdefault("metadata", {}).setdefault("labels", {})
        for key, value in generated.items():
            labels.setdefault(key, value)
        spec["selector"] = {"matchLabels": {_CONTROLLER_UID: uid}}
    if "completions" not in spec and "parallelism" not in spec:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    failed = "Failed" if spec.get("podFailurePolicy") else "TerminatingOrFailed"
    spec.setdefault("podReplacementPolicy", failed)
    labels = (template.get("metadata") or {}).get("labels")
    if labels and not metadata.get("labels"):
        metadata["labels"] = dict(labels)
    _template_restart_policy(kind, obj, ("OnFailure", "Never"))


def _pod(kind: Kind, obj: Obj, old: Obj | None) -> None:
    if not (obj.get("spec") or {}).get("containers"):
        raise invalid(kind, obj["metadata"]["name"], [("spec.containers", "Required value")])
    if old is None:
        obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def _crd(kind: Kind, obj: Obj, old: Obj | None) -> None:
    validate_crd(obj)
    if old is not None:
        for field in ("group", "names", "scope"):
            was, now = (old.get("spec") or {}).get(field), (obj.get("spec") or {}).get(field)
            if field != "names" and was != now:
                raise invalid(
                    kind,
                    obj["metadata"]["name"],
                    [(f"spec.{field}", "Invalid value: field is immutable")],
                )


_CHECKS = {
    "Secret": [_secret, _immutable_data],
    "ConfigMap": [_immutable_data],
    "RoleBinding": [_binding],
    "ClusterRoleBinding": [_binding],
    "Role": [_role],
    "ClusterRole": [_role],
    "Namespace": [_namespace],
    "Service": [_service],
    "Deployment": [_deployment],
    "Job": [_job],
    "Pod": [_pod],
    "CustomResourceDefinition": [_crd],
}


_LABEL_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)


def _label_problems(key: str, value: object) -> list[tuple[str, str]]:
    problems = []
    prefix, _, label = key.rpartition("/")
    bad_prefix = bool(prefix) and not re.fullmatch(_SUBDOMAIN, prefix)
    if len(label) > 63 or not re.fullmatch(_LABEL_NAME, label) or bad_prefix:
        rule = "name part must consist of alphanumeric characters, '-', '_' or '.'"
        problems.append(("metadata.labels", f'Invalid value: "{key}": {rule}'))
    text = value if isinstance(value, str) else ""
    if (
        not isinstance(value, str)
        or len(text) > 63
        or (text and not re.fullmatch(_LABEL_NAME, text))
    ):
        problems.append(("metadata.labels", f'Invalid value: "{value}": {_LABEL_VALUE_RULE}'))
    return problems


def _metadata(kind: Kind, obj: Obj) -> None:
    metadata = obj["metadata"]
    causes: list[tuple[str, str]] = []
    for key, value in (metadata.get("labels") or {}).items():
        causes += _label_problems(str(key), value)
    annotations = metadata.get("annotations") or {}
    size = sum(len(str(k)) + len(str(v)) for k, v in annotations.items())
    if size > _ANNOTATIONS_BYTES:
        message = f"Too long: must have at most {_ANNOTATIONS_BYTES} bytes"
        causes.append(("metadata.annotations", message))
    if causes:
        raise invalid(kind, metadata.get("name", ""), causes)


def prepare(kind: Kind, obj: Obj, old: Obj | None) -> None:
    """Check and default obj in place before it is stored (old None on create)."""
    _metadata(kind, obj)
    if kind.custom:
        return
    for check in _CHECKS.get(kind.kind, ()):
        check(kind, obj, old)
    problems = enum_problems(kind.model, obj)
    if problems:
        raise invalid(kind, obj["metadata"].get("name", ""), problems)
