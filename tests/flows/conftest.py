"""Flow tests: one Prefect test harness per session, a fresh in-process sandbox per test: empty
(`sandbox`), or a copy of dev provisioned from the reference spec (`provisioned`)."""

from __future__ import annotations

import contextlib
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import snapshot
from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN, GitHub

REFERENCE = Path(__file__).resolve().parents[2] / "infra_specs"


@pytest.fixture(scope="session", autouse=True)
def prefect_server(prefect_harness: None) -> None:
    """Every flow test runs against the session's Prefect server."""


@contextlib.contextmanager
def platform_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> Iterator[Sandbox]:
    """A sandbox (`options` as Sandbox takes them) whose GitHub has the reference spec's
    organization; GITHUB_TOKEN is the sandbox bot's token (as `mlplat up` sets it)."""
    with Sandbox(tmp_path / "state", **options) as running:
        github = running.component("github")
        assert isinstance(github, GitHub)
        github.create_org("ml-platform-org")
        monkeypatch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
        yield running


@pytest.fixture(scope="session")
def provisioned_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A snapshot of an instant sandbox where dev was provisioned from the reference spec
    (once per session and worker), checked free of drift."""
    from flows.provision_environment import provision_environment  # noqa: PLC0415

    tmp = tmp_path_factory.mktemp("provisioned")
    with (
        pytest.MonkeyPatch.context() as patch,
        platform_sandbox(tmp, patch, latency="instant") as running,
    ):
        provision_environment("dev", spec_dir=str(REFERENCE), endpoints=str(running.endpoints_path))
        assert drift_check(running) == ("Completed", [])
    return snapshot.save(tmp / "state", tmp / "snapshot")


@contextlib.contextmanager
def restored(
    saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options: Any
) -> Iterator[Sandbox]:
    """A copy of a snapshot of `platform_sandbox`, in its own state directory under tmp_path,
    on its own ports; GITHUB_TOKEN is the sandbox bot's token."""
    monkeypatch.setenv("GITHUB_TOKEN", ADMIN_TOKEN)
    options.setdefault("latency", "instant")
    with snapshot.restore(saved, tmp_path / "state", **options) as running:
        yield running


@pytest.fixture
def sandbox(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Sandbox]:
    """An instant sandbox ready for the reference platform. A test marked `provisioned` gets
    one where dev is provisioned from the reference spec, as if it had run
    `provision_environment` itself: a copy of `provisioned_snapshot`, on its own ports."""
    context = (
        restored(request.getfixturevalue("provisioned_snapshot"), tmp_path, monkeypatch)
        if request.node.get_closest_marker("provisioned")
        else platform_sandbox(tmp_path, monkeypatch, latency="instant")
    )
    with context as running:
        yield running


def admin(sandbox: Sandbox, method: str, path: str, body: Any = None) -> Any:
    """Call the sandbox's admin endpoint."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(sandbox.admin_url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def writes(sandbox: Sandbox) -> dict[str, int]:
    """Mutating calls per method since the last reset."""
    methods = admin(sandbox, "GET", "/counters")["methods"]
    return {name: m["writes"] for name, m in methods.items() if m.get("writes")}


def drift_check(
    sandbox: Sandbox, remediate: bool = False, spec_dir: Path = REFERENCE, prune: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """check_drift of dev on the spec (the reference's by default): (final state's name, its
    findings)."""
    from flows.check_drift import check_drift  # noqa: PLC0415 - flows need the harness first

    state = check_drift(
        "dev",
        remediate=remediate,
        prune=prune,
        spec_dir=str(spec_dir),
        endpoints=str(sandbox.endpoints_path),
        return_state=True,
    )
    data: Any = state.result(raise_on_failure=False)
    return str(state.name), [] if state.is_completed() else data["findings"]
