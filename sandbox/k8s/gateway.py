"""The Connect Gateway: every sandbox cluster's Kubernetes API behind one HTTP server.

    /v1/projects/<project-number>/locations/global/gkeMemberships/<membership>/api/v1/...
    /dns/<dns-endpoint-host>/api/v1/...

The second form stands for a cluster's DNS-based control-plane endpoint: on Google,
`https://gke-<hash>-<number>.<location>.gke.goog/api/v1/...` is the cluster's own API server,
reached by name from anywhere. Such names cannot resolve here, so the sandbox publishes a base
URL (`gkedns` in endpoints.json, `<this server>/dns`) under which the host becomes the first
path segment; a client maps `https://<host>` to `<gkedns>/<host>` and changes nothing else.
`resolve_dns(host)` names the cluster and whether its endpoint admits user traffic
(`dnsEndpointConfig.allowExternalTraffic`; 403 when not).

`resolve(project_number, membership)` names the cluster a membership points at (its key), or
None (404, Google-style). Requests then carry a bearer token (401 without one), may impersonate,
are authorized by RBAC, counted in `rt.counters` as `k8s.<verb>.<resource>`, and subject to
`rt.faults` rules for api `k8s` and those method ids. The port speaks HTTP and HTTPS (kubectl
sends tokens only over TLS; kubeconfigs carry `ca_pem`, also served at `/sandbox/ca.pem`).
"""

from __future__ import annotations

import functools
import re
import sys
import time
import traceback
from collections.abc import Callable

from sandbox.counters import RequestRecord
from sandbox.httpserver import Request, Response
from sandbox.k8s import discovery, openapi
from sandbox.k8s.backend import backend, release
from sandbox.k8s.cluster_context import Cluster
from sandbox.k8s.cluster_registry import ClusterRegistry, open_cluster
from sandbox.k8s.crds import INDEX as CRD_INDEX
from sandbox.k8s.crds import openapi_schema
from sandbox.k8s.errors import StatusError, no_such_path
from sandbox.k8s.handlers import Call, error_reply, handle_resource, reply
from sandbox.k8s.identity import UserInfo, authenticate, impersonate
from sandbox.k8s.kinds import READ_VERBS, REVIEW_PLURALS
from sandbox.k8s.rbac import Attributes, authorize, forbidden_error
from sandbox.k8s.request_paths import Route, parse_route, verb_of
from sandbox.k8s.server import Streamed, StreamingHttpServer
from sandbox.k8s.tls import gateway_tls, server_context
from sandbox.runtime import Runtime

Resolver = Callable[[str, str], "str | None"]
DnsResolver = Callable[[str], "tuple[str, bool] | None"]
VersionOf = Callable[[str], "str | None"]
_PREFIX = re.compile(r"^(/v1/projects/([^/]+)/locations/global/gkeMemberships/([^/]+))(/.*)?$")
_DNS_PREFIX = re.compile(r"^(/dns/([^/]+))(/.*)?$")
_STATE = "k8s.gateway"
CA_PATH = "/sandbox/ca.pem"  # the CA for kubeconfigs written by other processes
_REASONS = {429: "TooManyRequests", 503: "ServiceUnavailable", 504: "Timeout"}


def _google_error(code: int, message: str, status: str) -> Response:
    body = {"error": {"code": code, "message": message, "status": status}}
    return Response.json(code, body)


class Gateway:
    """A sandbox component (`connectgateway`) serving every cluster's API."""

    name = "connectgateway"

    def __init__(
        self,
        resolve: Resolver,
        *,
        resolve_dns: DnsResolver | None = None,
        version_of: VersionOf | None = None,
    ) -> None:
        self._resolve = resolve
        self._resolve_dns = resolve_dns
        self._version_of = version_of
        self._rt: Runtime | None = None
        self._http: StreamingHttpServer | None = None
        self._ca_pem = ""

    @property
    def runtime(self) -> Runtime | None:
        """The sandbox runtime while started, else None."""
        return self._rt

    @property
    def registry(self) -> ClusterRegistry:
        """The clusters (only while started)."""
        if self._rt is None:
            raise RuntimeError("the gateway is not started")
        return ClusterRegistry(self._rt)

    @property
    def url(self) -> str:
        """Base URL (only while started)."""
        if self._http is None:
            raise RuntimeError("the gateway is not started")
        return self._http.url

    @property
    def https_url(self) -> str:
        """The same port over TLS (what kubectl needs to send a token)."""
        return self.url.replace("http://", "https://", 1)

    @property
    def ca_pem(self) -> str:
        """The CA that signed the gateway's certificate (for kubeconfigs)."""
        return self._ca_pem

    def membership_url(self, project_number: str, membership: str, tls: bool = False) -> str:
        """The Kubernetes API server URL of a membership (a kubeconfig `server`)."""
        base = self.https_url if tls else self.url
        return f"{base}/v1/projects/{project_number}/locations/global/gkeMemberships/{membership}"

    def start(self, rt: Runtime) -> str:
        """Serve, resuming namespaces left Terminating.

        The port of the previous start is reused when free, so written kubeconfigs stay valid.
        """
        self._rt = rt
        tls = gateway_tls(rt.store)
        self._ca_pem = tls.ca_pem
        context = server_context(tls)
        previous = int((rt.store.get(_STATE, "port") or {}).get("port", 0))
        try:
            self._http = StreamingHttpServer(self.handle, previous, self.name, context)
        except OSError:
            self._http = StreamingHttpServer(self.handle, 0, self.name, context)
        rt.store.put(_STATE, "port", {"port": self._http.port})
        self._http.start()
        ClusterRegistry(rt).resume()
        return self._http.url

    def stop(self) -> None:
        """Stop serving, end every watch."""
        if self._rt is not None:
            release(self._rt)
        if self._http is not None:
            self._http.stop()
        self._http = None
        self._rt = None

    def handle(self, request: Request) -> Response | Streamed:
        """Answer one request."""
        rt = self._rt
        if rt is None:
            return _google_error(503, "The gateway is stopping.", "UNAVAILABLE")
        started = time.monotonic()
        if request.path == CA_PATH:
            return Response(200, self._ca_pem.encode(), {"Content-Type": "application/x-pem-file"})
        found = self._target(request.path)
        if isinstance(found, Response):
            return found
        prefix, cluster_key, path = found
        if not ClusterRegistry(rt).exists(cluster_key):
            return _google_error(
                503, "The cluster behind this membership is not reachable.", "UNAVAILABLE"
            )
        route = parse_route(path)
        verb, method = _method_id(request, route, path)
        fault = ""
        try:
            injected = rt.faults.request_fault("k8s", method)
            if injected is not None:
                fault = injected.label
                time.sleep(injected.delay)
                code = injected.error.code
                reason = _REASONS.get(code, "InternalError")
                error = injected.error
                raise StatusError(code, reason, error.message, headers=error.headers)
            pause = rt.latency.call(method, write=not _is_read(verb, route))
            if pause:
                time.sleep(pause)
            cluster = open_cluster(backend(rt), cluster_key)
            user = self._identify(cluster, request)
            call = Call(cluster, user, request)
            if route is not None:
                response = handle_resource(call, route)
            else:
                version = self._version_of(cluster_key) if self._version_of else None
                response = _non_resource(call, path, prefix, version)
        except StatusError as error:
            response = error_reply(error)
        except Exception as exc:  # a sandbox bug: answer a 500 Status, keep serving
            traceback.print_exc(file=sys.stderr)
            response = error_reply(StatusError(500, "InternalError", f"sandbox error: {exc}"))
        if isinstance(response, Response) and not fault:
            malformed = rt.faults.malform("k8s", method, response.status, response.body)
            if malformed is not None:
                fault = malformed.label
                response = Response(response.status, malformed.body, response.headers)
        rt.counters.record(
            RequestRecord(
                time=rt.now(),
                api="k8s",
                method=method,
                http_method=request.method,
                path=request.path,
                query=request.raw_query,
                status=response.status,
                read=_is_read(verb, route),
                fault=fault,
                millis=round((time.monotonic() - started) * 1000, 2),
            )
        )
        return response

    def _target(self, url_path: str) -> tuple[str, str, str] | Response:
        """(prefix, cluster key, Kubernetes path) of a request, or the error answering it."""
        match = _PREFIX.match(url_path)
        if match is not None:
            prefix, number, membership, path = match.groups(default="/")
            cluster_key = self._resolve(number, membership)
            if cluster_key is None:
                name = f"projects/{number}/locations/global/memberships/{membership}"
                return _google_error(404, f"Resource '{name}' was not found", "NOT_FOUND")
            return prefix, cluster_key, path
        match = _DNS_PREFIX.match(url_path)
        if match is None or self._resolve_dns is None:
            return _google_error(404, f"The requested URL {url_path} was not found.", "NOT_FOUND")
        prefix, host, path = match.groups(default="/")
        resolved = self._resolve_dns(host)
        if resolved is None:
            return _google_error(404, f"No cluster answers at {host}.", "NOT_FOUND")
        cluster_key, allowed = resolved
        if not allowed:
            return _google_error(
                403,
                f"The DNS endpoint {host} does not allow external traffic "
                "(dnsEndpointConfig.allowExternalTraffic is false).",
                "PERMISSION_DENIED",
            )
        return prefix, cluster_key, path

    def _identify(self, cluster: Cluster, request: Request) -> UserInfo:
        user = authenticate(
            cluster.backend.store, cluster.key, request.headers.get("authorization", "")
        )
        groups = [
            g.strip() for g in request.headers.get("impersonate-group", "").split(",") if g.strip()
        ]

        def can(who: UserInfo, resource: str, name: str, namespace: str) -> bool:
            attrs = Attributes("impersonate", "", resource, "", namespace, name)
            return authorize(cluster.objects, who, attrs).allowed

        return impersonate(user, request.headers, groups, can)


def _is_read(verb: str, route: Route | None) -> bool:
    """Reads change nothing: the read verbs, and access reviews (answered, never stored)."""
    return verb in READ_VERBS or (route is not None and route.plural in REVIEW_PLURALS)


def _method_id(request: Request, route: Route | None, path: str) -> tuple[str, str]:
    """The verb, and the id counters and fault rules use: `k8s.<verb>.<resource>`."""
    if route is not None:
        verb = verb_of(request.method, route, request.query)
        resource = route.plural + (f"/{route.subresource}" if route.subresource else "")
        return verb, f"k8s.{verb}.{resource}"
    first = next((p for p in path.split("/") if p), "root")
    kinds = {"api": "discovery", "apis": "discovery", "openapi": "openapi"}
    return "get", f"k8s.get.{kinds.get(first, first)}"


def crd_versions(cluster: Cluster, group: str, version: str) -> str:
    """The resourceVersions of a group's CRDs: its OpenAPI document changes with them."""
    entries = cluster.backend.store.get(CRD_INDEX, cluster.key) or {}
    return ",".join(
        str(entry.get("rv", ""))
        for name, entry in sorted(entries.items())
        if name.split(".", 1)[-1] == group
    )


def _non_resource(call: Call, path: str, prefix: str, version: str | None) -> Response:
    attrs = Attributes("get", path=path.rstrip("/") or "/")
    if call.request.method != "GET":
        raise no_such_path()
    if not authorize(call.cluster.objects, call.user, attrs).allowed:
        raise forbidden_error(call.user, attrs)
    parts = [p for p in path.split("/") if p]
    kinds = call.cluster.kinds()
    found: object = None
    if parts == ["version"]:
        found = discovery.version_info(version)
    elif parts in (["healthz"], ["livez"], ["readyz"]):
        return Response(200, b"ok", {"Content-Type": "text/plain; charset=utf-8"})
    elif parts == ["api"]:
        found = discovery.api_versions(call.request.base_url.split("//", 1)[-1])
    elif parts == ["api", "v1"]:
        found = discovery.api_resource_list(kinds, "", "v1")
    elif parts == ["apis"]:
        found = discovery.api_group_list(kinds)
    elif len(parts) == 2 and parts[0] == "apis":
        found = discovery.api_group(kinds, parts[1])
    elif len(parts) == 3 and parts[0] == "apis":
        found = discovery.api_resource_list(kinds, parts[1], parts[2])
    elif parts == ["openapi", "v3"]:
        found = openapi.index(kinds, prefix, functools.partial(crd_versions, call.cluster))
    elif parts[:2] == ["openapi", "v3"] and parts[2:3] == ["api"] and len(parts) == 4:
        found = openapi.group_version_document(kinds, "", parts[3], lambda kind: None)
    elif parts[:3] == ["openapi", "v3", "apis"] and len(parts) == 5:
        cluster = call.cluster
        schema_of = functools.partial(openapi_schema, cluster.backend, cluster.key)
        found = openapi.group_version_document(kinds, parts[3], parts[4], schema_of)
    if found is None:
        raise no_such_path()
    return reply(200, found)
