"""A pod's streaming subresources. `log` answers a simulated container log saying what the
container would run (image, command, node, start and end); nothing runs in the sandbox, so
`exec`, `attach` and `portforward` are refused with a message that says so."""

from __future__ import annotations

from typing import Any

from sandbox.httpserver import Response
from sandbox.k8s.errors import StatusError, bad_request, not_found
from sandbox.k8s.kinds import builtin

Obj = dict[str, Any]
STREAMS = frozenset({"log", "exec", "attach", "portforward"})
UNSUPPORTED = (
    "{what} is not supported by the sandbox: its pods run no processes "
    "(`kubectl logs` shows what would run)"
)


def _container(pod: Obj, name: str) -> Obj:
    containers = list((pod.get("spec") or {}).get("containers") or [])
    containers += list((pod.get("spec") or {}).get("initContainers") or [])
    pod_name = pod["metadata"]["name"]
    if not name:
        if len(containers) != 1:
            names = " ".join(str(c.get("name")) for c in containers)
            raise bad_request(
                f"a container name must be specified for pod {pod_name}, choose one of: [{names}]"
            )
        return containers[0]
    for container in containers:
        if container.get("name") == name:
            return container
    raise bad_request(f"container {name} is not valid for pod {pod_name}")


def _state(pod: Obj, name: str) -> Obj:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == name:
            return dict(status.get("state") or {})
    return {}


def container_log(pod: Obj, container_name: str, tail: int | None = None) -> str:
    """The simulated log of one container (400 while it has not started)."""
    container = _container(pod, container_name)
    name, metadata = str(container.get("name")), pod["metadata"]
    state = _state(pod, name)
    if not state.get("running") and not state.get("terminated"):
        reason = (state.get("waiting") or {}).get("reason") or "ContainerCreating"
        raise bad_request(
            f'container "{name}" in pod "{metadata["name"]}" is waiting to start: {reason}'
        )
    command = [*(container.get("command") or []), *(container.get("args") or [])]
    ran = " ".join(str(part) for part in command) or "the image's entrypoint"
    node = (pod.get("spec") or {}).get("nodeName") or "the sandbox"
    started = (state.get("running") or state.get("terminated") or {}).get("startedAt", "")
    lines = [
        f"[sandbox] container {name} of pod {metadata['namespace']}/{metadata['name']} on {node}",
        f"[sandbox] image {container.get('image')}: simulated, no process runs",
        f"[sandbox] started {started}: {ran}",
    ]
    terminated = state.get("terminated")
    if terminated:
        lines.append(
            f"[sandbox] exited {terminated.get('exitCode', 0)} ({terminated.get('reason', '')}) "
            f"at {terminated.get('finishedAt', '')}"
        )
    else:
        lines.append("[sandbox] running")
    if tail is not None:
        lines = lines[-tail:] if tail else []
    return "".join(f"{line}\n" for line in lines)


def pod_stream(
    pod: Obj | None, name: str, subresource: str, query: dict[str, list[str]]
) -> Response:
    """The answer to /pods/{name}/{subresource}."""
    if subresource != "log":
        what = {"portforward": "port-forward"}.get(subresource, subresource)
        raise StatusError(400, "BadRequest", UNSUPPORTED.format(what=what))
    if pod is None:
        raise not_found(builtin("Pod"), name)
    tail_text = (query.get("tailLines") or [""])[-1]
    tail = int(tail_text) if tail_text.lstrip("-").isdigit() and int(tail_text) >= 0 else None
    text = container_log(pod, (query.get("container") or [""])[-1], tail)
    return Response(200, text.encode(), {"Content-Type": "text/plain"})
