"""Resource requests: authorize, then get/list/watch/create/update/patch/delete."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from sandbox.httpserver import Request, Response
from sandbox.k8s.cluster_context import Cluster, Ref, present
from sandbox.k8s.errors import StatusError, bad_request, method_not_allowed, no_such_path
from sandbox.k8s.identity import UserInfo
from sandbox.k8s.kinds import REVIEW_KINDS, Kind, storage_key
from sandbox.k8s.patch_verb import patch
from sandbox.k8s.pod_streams import STREAMS, pod_stream
from sandbox.k8s.protobuf import PROTOBUF, decode_body
from sandbox.k8s.rbac import Attributes, authorize, forbidden_error
from sandbox.k8s.request_paths import Route, is_flag, verb_of
from sandbox.k8s.reviews import review
from sandbox.k8s.scale import has_scale, patch_scale, read_scale, write_scale
from sandbox.k8s.selectors import selector_matcher
from sandbox.k8s.server import Streamed
from sandbox.k8s.tables import table, wants_table
from sandbox.k8s.verbs import create, delete, get, list_objects, update
from sandbox.k8s.watch import WatchRequest, stream
from sandbox.k8s.writes import Result, WriteOptions

Obj = dict[str, Any]
JSON = "application/json"
DEFAULT_WATCH_SECONDS = 1800


@dataclass(frozen=True)
class Call:
    """One authenticated request to one cluster."""

    cluster: Cluster
    user: UserInfo
    request: Request

    def arg(self, name: str, default: str = "") -> str:
        """The last value of a query parameter."""
        return (self.request.query.get(name) or [default])[-1]

    def body(self, kind: str = "", api_version: str = "") -> Any:
        """The body as JSON (decoded from protobuf when sent so; 400 when unreadable)."""
        content_type = self.request.headers.get("content-type", "").split(";", 1)[0].strip()
        if content_type == PROTOBUF:
            return decode_body(self.request.body, kind, api_version)
        try:
            return json.loads(self.request.body) if self.request.body.strip() else None
        except ValueError as exc:
            raise bad_request(f"couldn't get version/kind; json parse error: {exc}") from None


def _quoted(text: str) -> str:
    """A warning as an HTTP quoted-string (RFC 7234): quotes and backslashes escaped."""
    return text.replace("\n", " ").replace("\\", "\\\\").replace('"', '\\"')


def reply(status: int, payload: Any, warnings: list[str] | None = None) -> Response:
    """A JSON answer, with warnings in a `Warning` header as kube-apiserver sends them."""
    headers = {"Content-Type": JSON}
    if warnings:
        headers["Warning"] = ", ".join(f'299 - "{_quoted(w)}"' for w in warnings)
    return Response(status, json.dumps(payload, separators=(",", ":")).encode(), headers)


def _authorize(call: Call, attrs: Attributes) -> None:
    if not authorize(call.cluster.objects, call.user, attrs).allowed:
        raise forbidden_error(call.user, attrs)


def _options(call: Call, kind: Kind, route: Route, body: Any = None) -> WriteOptions:
    dry_run = call.request.query.get("dryRun") or []
    if isinstance(body, dict):
        dry_run = dry_run + list(body.get("dryRun") or [])
    if any(value != "All" for value in dry_run):
        raise bad_request(f'dryRun: Unsupported value: {dry_run}: supported values: "All"')
    agent = call.request.headers.get("user-agent", "")
    manager = call.arg("fieldManager") or agent.split("/", 1)[0]
    namespace = route.auth_namespace

    def may_create() -> None:
        _authorize(call, Attributes("create", kind.group, kind.plural, "", namespace, route.name))

    return WriteOptions(
        user=call.user,
        manager=manager,
        dry_run=bool(dry_run),
        field_validation=call.arg("fieldValidation", "Warn") or "Warn",
        force=is_flag(call.request.query, "force"),
        subresource=route.subresource,
        may_create=may_create,
    )


def _tabled(call: Call, kind: Kind, items: list[Obj], rv: str) -> Response | None:
    """A Table answer when the client asked for one (kubectl get), else None."""
    if not wants_table(call.request.headers.get("accept", "")):
        return None
    full = call.arg("includeObject") == "Object"
    return reply(200, table(kind, items, rv, call.cluster.backend.rt.now(), full))


def _list(call: Call, kind: Kind, route: Route) -> Response | Streamed:
    matches = selector_matcher(call.arg("labelSelector"), call.arg("fieldSelector"), kind.kind)
    if is_flag(call.request.query, "watch"):
        return _watch(call, kind, route, matches)
    items, rv = list_objects(call.cluster, kind, route.namespace)
    items = [item for item in items if matches(item)]
    tabled = _tabled(call, kind, items, rv)
    if tabled is not None:
        return tabled
    shown = [{"apiVersion": kind.api_version, "kind": kind.kind, **item} for item in items]
    return reply(
        200,
        {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": rv},
            "items": shown,
        },
    )


def _watch(call: Call, kind: Kind, route: Route, matches: Any) -> Streamed:
    since = call.arg("resourceVersion")
    timeout = call.arg("timeoutSeconds")
    if since not in ("", "0") and not since.isdigit():
        raise bad_request(f'resourceVersion: Invalid value: "{since}": must be an integer')
    if timeout and not timeout.isdigit():
        raise bad_request(f'timeoutSeconds: Invalid value: "{timeout}": must be an integer')
    initial: list[Obj] = []
    if since in ("", "0"):
        items, current = list_objects(call.cluster, kind, route.namespace)
        initial = [item for item in items if matches(item)]
        since = current
    seconds = int(timeout) if timeout else DEFAULT_WATCH_SECONDS
    objects = call.cluster.objects

    def shown(obj: Obj) -> Obj:
        served = present(kind, obj)
        if not wants_table(call.request.headers.get("accept", "")):
            return served
        rv = served["metadata"].get("resourceVersion", "")
        full = call.arg("includeObject") == "Object"
        return table(kind, [served], rv, call.cluster.backend.rt.now(), full)

    request = WatchRequest(
        cluster=call.cluster.key,
        storage=storage_key(kind),
        namespace=route.namespace,
        matches=matches,
        present=shown,
        deadline=time.monotonic() + seconds,
    )
    chunks = stream(objects.hub, request, int(since), objects.current_rv, initial)
    return Streamed(200, chunks, {"Content-Type": JSON})


def _delete_collection(call: Call, kind: Kind, route: Route, opts: WriteOptions) -> Response:
    matches = selector_matcher(call.arg("labelSelector"), call.arg("fieldSelector"), kind.kind)
    items, rv = list_objects(call.cluster, kind, route.namespace)
    deleted = []
    for item in items:
        if matches(item):
            metadata = item["metadata"]
            ref = Ref(kind, metadata.get("namespace", ""), metadata["name"])
            deleted.append(delete(call.cluster, ref, opts).obj)
    listed = {"kind": f"{kind.kind}List", "apiVersion": kind.api_version, "items": deleted}
    return reply(200, {**listed, "metadata": {"resourceVersion": rv}})


def _answer(result: Result, deleting: bool = False) -> Response:
    status = 201 if result.created else 200
    pending = result.obj.get("kind") not in ("Status", "Namespace")
    if deleting and pending and result.obj["metadata"].get("deletionTimestamp"):
        status = 202  # accepted: finalizers still hold the object
    return reply(status, result.obj, result.warnings)


def _scale(call: Call, kind: Kind, route: Route, ref: Ref, verb: str) -> Response:
    if verb == "get":
        return reply(200, read_scale(call.cluster, ref))
    if verb == "update":
        body = call.body("Scale", "autoscaling/v1")
        return _answer(write_scale(call.cluster, ref, body, _options(call, kind, route)))
    if verb == "patch":
        content_type = call.request.headers.get("content-type", "")
        opts = _options(call, kind, route)
        return _answer(patch_scale(call.cluster, ref, content_type, call.request.body, opts))
    raise method_not_allowed("the server does not allow this method on the requested resource")


def handle_resource(call: Call, route: Route) -> Response | Streamed:
    """Serve a request on a resource path."""
    kind = call.cluster.kinds().by_resource(route.group, route.version, route.plural)
    if kind is None or (route.namespace is not None and not kind.namespaced):
        raise no_such_path()
    streamed = kind.kind == "Pod" and not kind.custom and route.subresource in STREAMS
    if route.subresource and not (
        (route.subresource == "status" and kind.status)
        or (route.subresource == "scale" and has_scale(kind))
        or streamed
    ):
        raise no_such_path()
    method = call.request.method
    verb = verb_of(method, route, call.request.query)
    if verb not in kind.verbs and not route.subresource:
        raise method_not_allowed("the server does not allow this method on the requested resource")
    if (
        kind.namespaced
        and route.namespace is None
        and verb not in ("list", "watch", "deletecollection")
    ):
        raise no_such_path()
    namespace = route.auth_namespace
    attrs = Attributes(verb, kind.group, kind.plural, route.subresource, namespace, route.name)
    _authorize(call, attrs)
    ref = Ref(kind, route.namespace or "", route.name)
    if route.subresource == "scale":
        return _scale(call, kind, route, ref, verb)
    if streamed:
        found = call.cluster.objects.get(storage_key(kind), ref.namespace, ref.name)
        return pod_stream(found, ref.name, route.subresource, call.request.query)
    if verb == "get":
        obj = get(call.cluster, ref)
        return _tabled(call, kind, [obj], obj["metadata"].get("resourceVersion", "")) or reply(
            200, obj
        )
    if verb in ("list", "watch"):
        return _list(call, kind, route)
    if verb == "create":
        if route.name:
            raise method_not_allowed(
                "the server does not allow this method on the requested resource"
            )
        body = call.body(kind.kind, kind.api_version)
        if kind.kind in REVIEW_KINDS:
            return reply(201, review(call.cluster, kind, route.namespace or "", body, call.user))
        return _answer(create(call.cluster, ref, body, _options(call, kind, route)))
    if verb == "update":
        body = call.body(kind.kind, kind.api_version)
        return _answer(update(call.cluster, ref, body, _options(call, kind, route)))
    if verb == "patch":
        content_type = call.request.headers.get("content-type", "")
        opts = _options(call, kind, route)
        return _answer(patch(call.cluster, ref, content_type, call.request.body, opts))
    body = call.body("DeleteOptions")
    opts = _options(call, kind, route, body)
    if verb == "deletecollection":
        return _delete_collection(call, kind, route, opts)
    preconditions = body.get("preconditions") if isinstance(body, dict) else None
    return _answer(delete(call.cluster, ref, opts, preconditions), deleting=True)


def error_reply(error: StatusError) -> Response:
    """A Status answer for an error."""
    response = reply(error.code, error.status())
    response.headers.update(error.headers)
    return response
