"""What every command that runs flows needs first: the target's services and environment."""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from mlplat.errors import MlplatError, SpecError
from mlplat.specs import PlatformSpec, load_spec
from mlplat.target import ENDPOINTS_ENV
from mlplat_cli import console, runner, services
from sandbox.github.component import ADMIN_TOKEN as SANDBOX_GITHUB_TOKEN

T = TypeVar("T")


def show_progress() -> None:
    """Prefect prints the run logs (mlplat's own lines among them, once); expected transient
    answers stay at DEBUG, in Prefect only."""
    console.quiet_prefect_console()


def prepare(
    target: str, spec: PlatformSpec, latency: str = "instant", time_scale: float = 60.0
) -> tuple[Path | None, str]:
    """Start (or find) the sandbox and the Prefect server; set the environment for the flows."""
    directory = services.state_dir()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")  # nor the client's notice about it, on a terminal
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "mlplat")
    endpoints: Path | None = None
    if target == "sandbox":
        endpoints = sandbox_endpoints(directory, latency, time_scale)
        os.environ.setdefault("GITHUB_TOKEN", SANDBOX_GITHUB_TOKEN)
        sandbox_org(endpoints, spec.platform.gitops.owner)
    url, started = services.ensure_prefect(directory)
    os.environ["PREFECT_API_URL"] = url
    print(f"prefect: {url} ({'started' if started else 'running'})", file=sys.stderr, flush=True)
    return endpoints, url.removesuffix("/api")


def prefect_server() -> runner.Server:
    """The Prefect server this command's runs report to (prepare() set PREFECT_API_URL), with
    its process when it is the one mlplat started for the state directory."""
    url = os.environ["PREFECT_API_URL"]
    directory = services.state_dir()
    try:
        ours = (directory / "prefect.url").read_text().strip() == url
    except OSError:
        ours = False
    pid = services.recorded_process(directory / "prefect.pid") if ours else None
    log = directory / "prefect.log" if pid is not None else None
    return runner.Server(url=url, pid=pid, log=log)


def sandbox_endpoints(directory: Path, latency: str, time_scale: float) -> Path:
    """The endpoints of the sandbox named by $MLPLAT_SANDBOX_ENDPOINTS, or else of the one in
    `directory` (started when not running)."""
    named = os.environ.get(ENDPOINTS_ENV)
    if named:
        endpoints = Path(named)
        if not endpoints.is_file():
            raise RuntimeError(
                f"${ENDPOINTS_ENV} names {endpoints}, which does not exist: start that sandbox "
                f"or unset ${ENDPOINTS_ENV} to use the one in {directory}"
            )
        print(f"sandbox: {endpoints} (from ${ENDPOINTS_ENV})", file=sys.stderr, flush=True)
        return endpoints
    print(f"sandbox: {directory}", file=sys.stderr, flush=True)
    endpoints, started = services.ensure_sandbox(directory, latency, time_scale)
    state = "started" if started else "running"
    print(f"  {state}; endpoints in {endpoints}", file=sys.stderr, flush=True)
    return endpoints


def sandbox_org(endpoints: Path, owner: str, attempts: int = 6) -> None:
    """The sandbox's GitHub needs the spec's organization: read it, and create it (GitHub
    Enterprise's admin API) only when missing, so a converged run writes nothing there.
    Transient answers (5xx, 429, a dropped connection) are retried with backoff."""
    github = json.loads(endpoints.read_text())["components"]["github"]
    auth = {"Authorization": f"token {SANDBOX_GITHUB_TOKEN}"}
    read = urllib.request.Request(f"{github}/api/v3/orgs/{owner}", headers=auth)
    create = urllib.request.Request(
        f"{github}/api/v3/admin/organizations",
        method="POST",
        data=json.dumps({"login": owner, "admin": "mlplat-bot"}).encode(),
        headers=auth,
    )
    for attempt in range(attempts):
        try:
            if _answers(read, missing=404):
                return
            _answers(create, missing=422)  # 422: made meanwhile by another command
            return
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            code = exc.code if isinstance(exc, urllib.error.HTTPError) else 503
            if (code < 500 and code != 429) or attempt == attempts - 1:
                raise
            time.sleep(min(0.25 * 2**attempt, 4.0))


def _answers(request: urllib.request.Request, missing: int) -> bool:
    """True when the request succeeds, False when it answers `missing`; raises otherwise."""
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except urllib.error.HTTPError as exc:
        if exc.code != missing:
            raise
        return False
    return True


class CommandError(Exception):
    """A command ends with `message` on stderr and exit `code` (main() prints it)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Ready:
    """A command's spec and services, ready for flows to run."""

    spec: PlatformSpec
    spec_dir: Path
    endpoints: Path | None
    ui: str

    def where(self) -> dict[str, Any]:
        """The flows' `spec_dir` and `endpoints` parameters."""
        return {
            "spec_dir": str(self.spec_dir),
            "endpoints": str(self.endpoints) if self.endpoints else None,
        }


def start(target: str, spec_dir: Path, *, spec_error: int = 2) -> Ready:
    """Validate the spec, then start (or find) the services; raise CommandError on either."""
    try:
        spec = load_spec(spec_dir)
    except SpecError as exc:
        raise CommandError(spec_error, str(exc)) from exc
    try:
        endpoints, ui = prepare(target, spec)
    except (RuntimeError, OSError) as exc:
        raise CommandError(1, str(exc)) from exc
    show_progress()
    return Ready(spec, spec_dir, endpoints, ui)


def run(ready: Ready, call: Callable[[], T]) -> T:
    """Run a flow; its failure becomes CommandError, pointing at the run's logs."""
    try:
        return runner.run(call, prefect_server())
    except (MlplatError, ValueError) as exc:
        raise CommandError(1, f"{exc}\nRuns and logs: {ready.ui}") from exc
