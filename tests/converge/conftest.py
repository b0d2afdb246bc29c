"""An instant in-process sandbox and the EnvContext of dev on it, no Prefect anywhere: the
converge steps are plain functions of the context."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlplat.converge import cluster, identity, network, project
from mlplat.converge.context import EnvContext, Outcome
from mlplat.render import cluster as render_cluster
from mlplat.specs import load_spec
from mlplat.target import Target, sandbox_from_file
from sandbox.cloud import Sandbox
from tests.adapters.conftest import sandbox, target
from tests.sandbox.conftest import Clients

REFERENCE = Path(__file__).resolve().parents[2] / "infra_specs"
ENV = "dev"


@dataclass
class Built:
    """A sandbox where dev's Google resources were converged once, the context that did it,
    and what that first run reported."""

    sandbox: Sandbox
    ctx: EnvContext
    first: list[Outcome]
    lines: list[str]

    @property
    def clients(self) -> Clients:
        return Clients(self.sandbox)

    def writes(self) -> dict[str, int]:
        """Mutating calls per method since the last reset of the counters."""
        methods = self.clients.admin("GET", "/counters")["methods"]
        return {name: m["writes"] for name, m in methods.items() if m.get("writes")}

    def reset_counters(self) -> None:
        self.clients.admin("POST", "/counters/reset")

    def planning(self) -> EnvContext:
        """The same context in a dry run: plans, writes nothing."""
        return replace(self.ctx, dry_run=True)

    def with_spec(self, spec_dir: Path) -> EnvContext:
        """The same environment on the same sandbox, from another spec."""
        return replace(self.ctx, spec=load_spec(spec_dir))


def context(spec_dir: Path, endpoints: Path, lines: list[str], dry_run: bool = False) -> EnvContext:
    """dev's context, as `mlplat` makes it, logging into `lines`."""
    return EnvContext(
        spec=load_spec(spec_dir),
        env_name=ENV,
        target=sandbox_from_file(endpoints),
        dry_run=dry_run,
        log=lines.append,
    )


def google_chain(ctx: EnvContext) -> list[Outcome]:
    """dev's Google resources in dependency order, as provision-environment converges them
    (there, independent steps run in parallel): project to node pools."""
    steps: list[Callable[[], Outcome | list[Outcome]]] = [
        lambda: project.ensure_project(ctx),
        lambda: project.ensure_billing(ctx),
        lambda: project.ensure_services(ctx),
        lambda: identity.ensure_node_service_account(ctx),
        lambda: network.ensure_network(ctx),
        lambda: network.ensure_subnet(ctx),
        lambda: network.ensure_router(ctx),
        lambda: network.ensure_reservations(ctx),
        lambda: cluster.ensure_cluster(ctx),
        *(
            (lambda pool=pool: cluster.ensure_node_pool(ctx, pool))
            for pool in render_cluster.every_pool(ctx.platform, ctx.env, ctx.project)
        ),
    ]
    outcomes: list[Outcome] = []
    for step in steps:
        done = step()
        outcomes.extend(done if isinstance(done, list) else [done])
    return outcomes


def edited_spec(tmp: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the reference spec whose dev environment file `change` edited."""
    spec = tmp / "infra_specs"
    shutil.copytree(REFERENCE, spec)
    path = spec / "environments" / f"{ENV}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return spec


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """dev's Google resources converged once on a fresh instant sandbox, for the module (its
    tests leave them converged)."""
    tmp = tmp_path_factory.mktemp("converge")
    with Sandbox(tmp / "state", latency="instant") as running:
        lines: list[str] = []
        ctx = context(REFERENCE, running.endpoints_path, lines)
        yield Built(running, ctx, google_chain(ctx), lines)


@pytest.fixture
def ctx(target: Target) -> EnvContext:
    """The reference spec's dev environment on a fresh sandbox (applying)."""
    return EnvContext(load_spec(REFERENCE), ENV, target)


__all__ = ["ctx", "sandbox", "target", "writes"]  # the adapters' sandbox fixtures, reused


def writes(sandbox: Sandbox) -> dict[str, int]:
    """Mutating calls per API method since the sandbox started."""
    with urllib.request.urlopen(sandbox.admin_url + "/counters", timeout=10) as response:
        methods: dict[str, Any] = json.load(response)["methods"]
    return {name: m["writes"] for name, m in methods.items() if m.get("writes")}
