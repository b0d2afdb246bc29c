"""The Sandbox: every emulated API on its own loopback port, plus the admin endpoint.

    with Sandbox(state_dir) as sandbox:
        sandbox.url("cloudresourcemanager")   # http://127.0.0.1:PORT

`<state_dir>/endpoints.json` tells other processes where everything is:
`{"apis": {"cloudresourcemanager": "http://127.0.0.1:P", ...}, "admin": "http://127.0.0.1:Q"}`.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

from sandbox.admin import AdminServer
from sandbox.api import GoogleApi
from sandbox.dispatch import ApiServer
from sandbox.faults import Faults
from sandbox.gcp.apis import google_apis
from sandbox.gcp.iam.project_policies import OWNER
from sandbox.latency import AUTO_UPGRADE_CHANCE, LatencyModel, Mode
from sandbox.operations import Ticker
from sandbox.runtime import Runtime
from sandbox.store import Store

ENDPOINTS_FILE = "endpoints.json"
STATE_FILE = "state.sqlite3"
T = TypeVar("T")


class Component(Protocol):
    """Something else the sandbox runs (a Kubernetes API server, GitHub…), sharing the runtime."""

    name: str

    def start(self, rt: Runtime) -> str:
        """Start serving; return the base URL."""
        ...

    def stop(self) -> None:
        """Stop serving."""
        ...


class Sandbox:
    """A local cloud, in-process: start(), stop(), or use it as a context manager."""

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        latency: Mode = "instant",
        time_scale: float = 1.0,
        seed: int = 0,
        faults: dict[str, Any] | None = None,
        apis: Sequence[GoogleApi] | None = None,
        components: Sequence[Component] | None = None,
        reuse_ports: bool = False,
        ticker_interval: float = 0.2,
        auto_upgrade_chance: float = AUTO_UPGRADE_CHANCE,
    ) -> None:
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="sandbox-"))
        self._latency = LatencyModel(
            latency, time_scale, seed, auto_upgrade_chance=auto_upgrade_chance
        )
        self._faults = Faults(faults)
        self._apis = list(apis) if apis is not None else None
        self._components = None if components is None else list(components)
        self._reuse_ports = reuse_ports
        self._ticker_interval = ticker_interval
        self._servers: dict[str, ApiServer] = {}
        self._component_urls: dict[str, str] = {}
        self._admin: AdminServer | None = None
        self._ticker: Ticker | None = None
        self._rt: Runtime | None = None
        # Made anew at each start, in endpoints.json and on /healthz: whoever reads the file
        # can tell this very sandbox from another that answers on its ports since.
        self.identity = ""

    @property
    def rt(self) -> Runtime:
        """The shared runtime (state, clock, faults, counters); only while started."""
        if self._rt is None:
            raise RuntimeError("the sandbox is not started")
        return self._rt

    @property
    def endpoints_path(self) -> Path:
        """Where endpoints.json is written."""
        return self.state_dir / ENDPOINTS_FILE

    def url(self, api: str) -> str:
        """Base URL of an API (`cloudresourcemanager`, `compute`, …) or component."""
        if api in self._servers:
            return self._servers[api].url
        return self._component_urls[api]

    def component(self, name: str) -> Component:
        """A running component by name (e.g. `github`)."""
        for component in self._components or ():
            if component.name == name:
                return component
        raise KeyError(f"no sandbox component {name!r}")

    @property
    def admin_url(self) -> str:
        """Base URL of the admin endpoint."""
        if self._admin is None:
            raise RuntimeError("the sandbox is not started")
        return self._admin.url

    def endpoints(self) -> dict[str, Any]:
        """What endpoints.json holds."""
        body: dict[str, Any] = {
            "apis": {name: server.url for name, server in self._servers.items()},
            "admin": self._admin.url if self._admin else "",
            "latency": self._latency.describe(),
            "state_dir": str(self.state_dir.resolve()),
            # Who every call is made as (the creator, and so an owner, of every project).
            "caller": OWNER,
            "identity": self.identity,
        }
        if self._component_urls:
            body["components"] = dict(self._component_urls)
        return body

    def start(self) -> Sandbox:
        """Open the state, start every server and the ticker, write endpoints.json."""
        # The state holds the clusters' Secrets (git-creds): its owner's only.
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.state_dir.chmod(0o700)
        self.identity = secrets.token_hex(16)
        previous = self._previous_ports() if self._reuse_ports else {}
        store = Store(self.state_dir / STATE_FILE)
        self._rt = rt = Runtime(store=store, latency=self._latency, faults=self._faults)
        for api in self._apis if self._apis is not None else google_apis():
            server = _bind(functools.partial(ApiServer, api, rt), previous.get(api.name))
            self._servers[api.name] = server
            server.http.start()
        self._admin = _bind(
            lambda port: AdminServer(rt, self.endpoints, port), previous.get("admin")
        )
        self._admin.http.start()
        if self._components is None:
            self._components = default_components(self.state_dir, previous)
        for component in self._components:
            url = component.start(rt)
            if url:  # a component may serve nothing (the simulated controllers)
                self._component_urls[component.name] = url
        self._ticker = Ticker(rt.operations, self._ticker_interval)
        self._ticker.start()
        _write_private(self.endpoints_path, json.dumps(self.endpoints(), indent=2) + "\n")
        return self

    def _previous_ports(self) -> dict[str, int]:
        try:
            data = json.loads(self.endpoints_path.read_text())
        except (OSError, ValueError):
            return {}
        urls = {
            **data.get("apis", {}),
            **data.get("components", {}),
            "admin": data.get("admin", ""),
        }
        ports = {name: urllib.parse.urlsplit(url).port for name, url in urls.items() if url}
        return {name: port for name, port in ports.items() if port}

    def stop(self) -> None:
        """Stop everything and close the state (operations in flight resume at next start)."""
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        for component in reversed(self._components or ()):  # dependents stop first
            component.stop()
        servers = [server.http for server in self._servers.values()]
        if self._admin is not None:
            servers.append(self._admin.http)
        # Each shutdown waits up to one poll interval: stop them all at once.
        stoppers = [threading.Thread(target=server.stop) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        self._servers = {}
        self._component_urls = {}
        self._admin = None
        if self._rt is not None:
            self._rt.store.close()
            self._rt = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def default_components(state_dir: Path, ports: dict[str, int]) -> list[Component]:
    """What a sandbox runs besides the Google APIs: GitHub with its git server, the Connect
    Gateway in front of every cluster's Kubernetes API, and the simulated in-cluster controllers
    (Config Sync reading that GitHub, Policy Controller, KubeRay)."""
    from sandbox.controllers import Controllers  # noqa: PLC0415 - keeps `cloud` light
    from sandbox.fleet_gateway import DnsEndpoints, connect_gateway  # noqa: PLC0415
    from sandbox.github.component import GitHub  # noqa: PLC0415

    github = GitHub(state_dir, port=ports.get("github", 0))
    gateway = connect_gateway()
    return [github, gateway, DnsEndpoints(gateway), Controllers(github)]


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600), whatever mode it had; atomically, so a
    reader sees the previous file or this one."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
    partial.replace(path)


def _bind(factory: Callable[[int], T], port: int | None) -> T:
    """Bind to the previous port when it is still free, else to any free port."""
    if port:
        try:
            return factory(port)
        except OSError:
            pass
    return factory(0)
