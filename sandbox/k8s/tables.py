"""Server-side printing: `Table` answers for `kubectl get` (Accept: …;as=Table;…), with the
columns Kubernetes' printers give each built-in kind; those of priority 1 are shown by
`kubectl get -o wide`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sandbox.k8s.kinds import Kind

Obj = dict[str, Any]
Column = tuple[str, str, str]  # (name, type, description)
Cell = Callable[[Obj, float], Any]
Spec = tuple[str, str, int, Cell]  # (name, type, priority, cell)
AGE = "CreationTimestamp is a timestamp of when it was created."


def wants_table(accept: str) -> bool:
    """True when the client asked for a meta.k8s.io Table."""
    return "as=Table" in accept


def _seconds(stamp: str) -> float | None:
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except (ValueError, TypeError):
        return None


def _human(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 600:
        return f"{seconds // 60}m{seconds % 60}s" if seconds % 60 else f"{seconds // 60}m"
    if seconds < 7200:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _age(created: str, now: float) -> str:
    then = _seconds(created)
    return "<unknown>" if then is None else _human(now - then)


def _path(obj: Any, json_path: str) -> str:
    value = obj
    for part in json_path.strip("{}").lstrip(".").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def _spec(obj: Obj) -> Obj:
    return obj.get("spec") or {}


def _status(obj: Obj) -> Obj:
    return obj.get("status") or {}


def _template_spec(obj: Obj) -> Obj:
    return (_spec(obj).get("template") or {}).get("spec") or {}


def _containers(obj: Obj, _: float) -> str:
    return ",".join(str(c.get("name")) for c in _template_spec(obj).get("containers") or [])


def _images(obj: Obj, _: float) -> str:
    return ",".join(str(c.get("image")) for c in _template_spec(obj).get("containers") or [])


def _selector(obj: Obj, _: float) -> str:
    selector = _spec(obj).get("selector") or {}
    parts = [f"{k}={v}" for k, v in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        values = ",".join(expression.get("values") or [])
        parts.append(
            f"{expression.get('key')} {str(expression.get('operator')).lower()} ({values})"
        )
    return ",".join(parts) or "<none>"


def _pod_status(pod: Obj, _: float) -> str:
    status = _status(pod)
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    reason = status.get("reason") or status.get("phase") or "Pending"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        if waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated.get("reason"):
            reason = terminated["reason"]
    return str(reason)


def _pod_ready(pod: Obj, _: float) -> str:
    statuses = _status(pod).get("containerStatuses") or []
    total = len(_spec(pod).get("containers") or [])
    return f"{sum(1 for c in statuses if c.get('ready'))}/{total}"


def _restarts(pod: Obj, _: float) -> int:
    return sum(int(c.get("restartCount") or 0) for c in _status(pod).get("containerStatuses") or [])


def _readiness_gates(pod: Obj, _: float) -> str:
    gates = _spec(pod).get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = {c.get("type"): c.get("status") for c in _status(pod).get("conditions") or []}
    return (
        f"{sum(1 for g in gates if conditions.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    )


def _node_status(node: Obj, _: float) -> str:
    ready = next(
        (c for c in _status(node).get("conditions") or [] if c.get("type") == "Ready"), None
    )
    shown = "Ready" if ready and ready.get("status") == "True" else "NotReady"
    if ready is None:
        shown = "Unknown"
    return f"{shown},SchedulingDisabled" if _spec(node).get("unschedulable") else shown


def _node_roles(node: Obj, _: float) -> str:
    prefix = "node-role.kubernetes.io/"
    roles = sorted(
        k[len(prefix) :] for k in node["metadata"].get("labels") or {} if k.startswith(prefix)
    )
    return ",".join(roles) or "<none>"


def _address(kind: str) -> Cell:
    def cell(node: Obj, _: float) -> str:
        found = [
            a.get("address") for a in _status(node).get("addresses") or [] if a.get("type") == kind
        ]
        return str(found[0]) if found else "<none>"

    return cell


def _node_info(key: str) -> Cell:
    return lambda node, _: str((_status(node).get("nodeInfo") or {}).get(key, ""))


def _job_status(job: Obj, _: float) -> str:
    conditions = {c.get("type"): c.get("status") for c in _status(job).get("conditions") or []}
    for kind, shown in (
        ("Complete", "Complete"),
        ("Failed", "Failed"),
        ("FailureTarget", "FailureTarget"),
        ("SuccessCriteriaMet", "SuccessCriteriaMet"),
        ("Suspended", "Suspended"),
    ):
        if conditions.get(kind) == "True":
            return shown
    return "Running"


def _job_completions(job: Obj, _: float) -> str:
    wanted = _spec(job).get("completions")
    done = int(_status(job).get("succeeded") or 0)
    return (
        f"{done}/{wanted}"
        if wanted is not None
        else f"{done}/1 of {_spec(job).get('parallelism', 1)}"
    )


def _job_duration(job: Obj, now: float) -> str:
    start = _seconds(str(_status(job).get("startTime") or ""))
    if start is None:
        return ""
    end = _seconds(str(_status(job).get("completionTime") or "")) or now
    return _human(end - start)


def _ports(service: Obj, _: float) -> str:
    shown = []
    for port in _spec(service).get("ports") or []:
        text = f"{port.get('port')}"
        if port.get("nodePort"):
            text += f":{port['nodePort']}"
        shown.append(f"{text}/{port.get('protocol', 'TCP')}")
    return ",".join(shown) or "<none>"


def _event_time(key: str) -> Cell:
    def cell(event: Obj, now: float) -> str:
        stamp = (
            event.get(key)
            or event.get("eventTime")
            or event["metadata"].get("creationTimestamp", "")
        )
        then = _seconds(str(stamp).split(".")[0].rstrip("Z") + "Z") if stamp else None
        return "<unknown>" if then is None else _human(now - then)

    return cell


def _event_object(event: Obj, _: float) -> str:
    involved = event.get("involvedObject") or {}
    return f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}"


def _event_source(event: Obj, _: float) -> str:
    source = event.get("source") or {}
    parts = [
        source.get("component") or event.get("reportingComponent") or "",
        source.get("host") or "",
    ]
    return ", ".join(p for p in parts if p)


def _get(path: str, default: Any = "") -> Cell:
    def cell(obj: Obj, _: float) -> Any:
        value: Any = obj
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return default if value is None else value

    return cell


def _age_cell(obj: Obj, now: float) -> str:
    return _age(obj["metadata"].get("creationTimestamp", ""), now)


NAME: Spec = ("Name", "string", 0, lambda obj, _: obj["metadata"].get("name", ""))
AGE_COLUMN: Spec = ("Age", "string", 0, _age_cell)
WORKLOAD_WIDE: list[Spec] = [
    ("Containers", "string", 1, _containers),
    ("Images", "string", 1, _images),
    ("Selector", "string", 1, _selector),
]

COLUMNS: dict[str, list[Spec]] = {
    "Pod": [
        NAME,
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, _pod_status),
        ("Restarts", "string", 0, _restarts),
        AGE_COLUMN,
        ("IP", "string", 1, lambda p, _: _status(p).get("podIP") or "<none>"),
        ("Node", "string", 1, lambda p, _: _spec(p).get("nodeName") or "<none>"),
        (
            "Nominated Node",
            "string",
            1,
            lambda p, _: _status(p).get("nominatedNodeName") or "<none>",
        ),
        ("Readiness Gates", "string", 1, _readiness_gates),
    ],
    "Deployment": [
        NAME,
        (
            "Ready",
            "string",
            0,
            lambda d, _: f"{_status(d).get('readyReplicas', 0)}/{_spec(d).get('replicas', 1)}",
        ),
        ("Up-to-date", "integer", 0, _get("status.updatedReplicas", 0)),
        ("Available", "integer", 0, _get("status.availableReplicas", 0)),
        AGE_COLUMN,
        *WORKLOAD_WIDE,
    ],
    "ReplicaSet": [
        NAME,
        ("Desired", "integer", 0, _get("spec.replicas", 1)),
        ("Current", "integer", 0, _get("status.replicas", 0)),
        ("Ready", "integer", 0, _get("status.readyReplicas", 0)),
        AGE_COLUMN,
        *WORKLOAD_WIDE,
    ],
    "Job": [
        NAME,
        ("Status", "string", 0, _job_status),
        ("Completions", "string", 0, _job_completions),
        ("Duration", "string", 0, _job_duration),
        AGE_COLUMN,
        *WORKLOAD_WIDE,
    ],
    "Node": [
        NAME,
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, _node_roles),
        AGE_COLUMN,
        ("Version", "string", 0, _node_info("kubeletVersion")),
        ("Internal-IP", "string", 1, _address("InternalIP")),
        ("External-IP", "string", 1, _address("ExternalIP")),
        ("OS-Image", "string", 1, _node_info("osImage")),
        ("Kernel-Version", "string", 1, _node_info("kernelVersion")),
        ("Container-Runtime", "string", 1, _node_info("containerRuntimeVersion")),
    ],
    "Event": [
        ("Last Seen", "string", 0, _event_time("lastTimestamp")),
        ("Type", "string", 0, _get("type")),
        ("Reason", "string", 0, _get("reason")),
        ("Object", "string", 0, _event_object),
        ("Subobject", "string", 1, _get("involvedObject.fieldPath")),
        ("Source", "string", 1, _event_source),
        ("Message", "string", 0, _get("message")),
        ("First Seen", "string", 1, _event_time("firstTimestamp")),
        ("Count", "string", 1, _get("count", 1)),
        ("Name", "string", 1, lambda e, _: e["metadata"].get("name", "")),
    ],
    "Service": [
        NAME,
        ("Type", "string", 0, _get("spec.type")),
        ("Cluster-IP", "string", 0, _get("spec.clusterIP")),
        (
            "External-IP",
            "string",
            0,
            lambda s, _: ",".join(_spec(s).get("externalIPs") or []) or "<none>",
        ),
        ("Port(s)", "string", 0, _ports),
        AGE_COLUMN,
        (
            "Selector",
            "string",
            1,
            lambda s, _: (
                ",".join(f"{k}={v}" for k, v in (_spec(s).get("selector") or {}).items())
                or "<none>"
            ),
        ),
    ],
    "Namespace": [NAME, ("Status", "string", 0, _get("status.phase")), AGE_COLUMN],
    "Secret": [
        NAME,
        ("Type", "string", 0, _get("type")),
        ("Data", "string", 0, lambda s, _: len(s.get("data") or {})),
        AGE_COLUMN,
    ],
    "ConfigMap": [
        NAME,
        (
            "Data",
            "string",
            0,
            lambda c, _: len(c.get("data") or {}) + len(c.get("binaryData") or {}),
        ),
        AGE_COLUMN,
    ],
    "CustomResourceDefinition": [
        NAME,
        ("Created At", "date", 0, lambda c, _: c["metadata"].get("creationTimestamp", "")),
    ],
}


def _columns(kind: Kind) -> list[Spec]:
    if kind.custom:
        custom: list[Spec] = [
            (c["name"], "string", 0, lambda obj, _, path=c["jsonPath"]: _path(obj, path))
            for c in kind.printer_columns
        ]
        return [NAME, *custom, AGE_COLUMN]
    return COLUMNS.get(kind.kind, [NAME, AGE_COLUMN])


def table(kind: Kind, items: list[Obj], resource_version: str, now: float, full: bool) -> Obj:
    """A Table of objects; each row carries the object (full) or its metadata."""
    columns = _columns(kind)
    rows = []
    for obj in items:
        metadata = obj.get("metadata") or {}
        cells = [cell({**obj, "metadata": metadata}, now) for _, _, _, cell in columns]
        shown = (
            obj
            if full
            else {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
            }
        )
        rows.append({"cells": cells, "object": shown})
    definitions = [
        {
            "name": name,
            "type": type_name,
            "format": "name" if name == "Name" and priority == 0 else "",
            "description": AGE if name == "Age" else f"{name} of the {kind.kind}.",
            "priority": priority,
        }
        for name, type_name, priority, _ in columns
    ]
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
