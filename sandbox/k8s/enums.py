"""Built-in fields that take one of a fixed set of values, checked as kube-apiserver's validation
does: `spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes":
supported values: "Always", "IfNotPresent", "Never"`.

Values are listed in the order Kubernetes' validation lists them (sorted where it uses a set).
The walk follows the official client's models, so every place a type appears is covered (a
Container in a Pod, a Deployment's template, a CronJob's job template).
"""

from __future__ import annotations

import functools
import importlib
import json
import threading
from typing import Any

Obj = dict[str, Any]
_PROTOCOLS = ("SCTP", "TCP", "UDP")
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("V1Container", "imagePullPolicy"): ("Always", "IfNotPresent", "Never"),
    ("V1EphemeralContainer", "imagePullPolicy"): ("Always", "IfNotPresent", "Never"),
    ("V1ContainerPort", "protocol"): _PROTOCOLS,
    ("V1ServicePort", "protocol"): _PROTOCOLS,
    ("V1PodSpec", "restartPolicy"): ("Always", "OnFailure", "Never"),
    ("V1PodSpec", "dnsPolicy"): ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"),
    ("V1Toleration", "operator"): ("Equal", "Exists"),
    ("V1Toleration", "effect"): ("NoSchedule", "PreferNoSchedule", "NoExecute"),
    ("V1ServiceSpec", "type"): ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort"),
    ("V1ServiceSpec", "sessionAffinity"): ("ClientIP", "None"),
    ("V1DeploymentStrategy", "type"): ("Recreate", "RollingUpdate"),
    ("V1JobSpec", "completionMode"): ("NonIndexed", "Indexed"),
}
_CHECKED = frozenset(model for model, _ in ENUMS)


def unsupported(value: Any, supported: tuple[str, ...]) -> str:
    """The message of a value outside a fixed set, as Kubernetes words it."""
    listed = ", ".join(json.dumps(item) for item in supported)
    return f"Unsupported value: {json.dumps(value)}: supported values: {listed}"


@functools.cache
def _fields(model: str) -> tuple[tuple[str, str], ...]:
    """(JSON name, client type) of a model's attributes."""
    cls = getattr(importlib.import_module("kubernetes.client.models"), model)
    return tuple((cls.attribute_map[a], t) for a, t in cls.openapi_types.items())


def _inner(type_name: str) -> str:
    """The model a field's type holds (`List[V1Container]` -> `V1Container`), or ""."""
    while type_name.startswith(("List[", "Dict[")):
        type_name = type_name[5:-1].split(", ", 1)[-1]
    return type_name if type_name[:1].isupper() else ""


_REACHES: dict[str, bool] = {}
_LOCK = threading.Lock()


def _reaches(model: str) -> bool:
    """Whether a model holds, at any depth, a field with a fixed set of values."""
    with _LOCK:
        return _reaches_locked(model)


def _reaches_locked(model: str) -> bool:
    if model in _REACHES:
        return _REACHES[model]
    _REACHES[model] = model in _CHECKED  # provisional while a recursive type is expanded
    inner = sorted({_inner(t) for _, t in _fields(model)} - {"", model})
    found = model in _CHECKED or any([_reaches_locked(m) for m in inner])
    _REACHES[model] = found
    return found


def _walk(value: Any, type_name: str, path: str, found: list[tuple[str, str]]) -> None:
    if type_name.startswith("List[") and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, type_name[5:-1], f"{path}[{index}]", found)
        return
    if type_name.startswith("Dict[") and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, type_name[5:-1].split(", ", 1)[1], f"{path}[{key}]", found)
        return
    model = _inner(type_name)
    if not model or not isinstance(value, dict) or not _reaches(model):
        return
    for name, field_type in _fields(model):
        if name not in value:
            continue
        where = f"{path}.{name}" if path else name
        supported = ENUMS.get((model, name))
        if supported is not None:
            if value[name] not in (*supported, "", None):  # empty: defaulted, or "any"
                found.append((where, unsupported(value[name], supported)))
            continue
        _walk(value[name], field_type, where, found)


def enum_problems(model: str, obj: Obj) -> list[tuple[str, str]]:
    """(field path, message) for every field of obj whose value is not one of its set."""
    found: list[tuple[str, str]] = []
    _walk(obj, model, "", found)
    return found
