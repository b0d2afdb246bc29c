"""Flow: every environment of the platform (or a chosen few), in parallel, each as its own
provision-environment subflow run."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows._start_together import in_turn, starting_together
from flows.provision_environment import DEFAULT_SPEC_DIR, provision_environment
from mlplat.specs import load_spec


@flow(name="provision-platform")
def provision_platform(
    envs: list[str] | None = None,
    dry_run: bool = False,
    spec_dir: str = DEFAULT_SPEC_DIR,
    endpoints: str | None = None,
    *,
    approved: bool = False,
) -> dict[str, Any]:
    """Converge the named environments (default: all) concurrently; fails if any fails.
    Environments that require approval pause with their plan unless `approved`."""
    spec = load_spec(Path(spec_dir))  # validate once, before any API call
    chosen = envs or sorted(spec.environments)
    unknown = sorted(set(chosen) - set(spec.environments))
    if unknown:
        raise ValueError(f"unknown environment(s) {unknown} (known: {sorted(spec.environments)})")
    get_run_logger().info("environments: %s%s", ", ".join(chosen), " (dry run)" if dry_run else "")

    def one(env: str) -> dict[str, Any]:
        return in_turn(
            lambda: provision_environment(
                env, dry_run=dry_run, spec_dir=spec_dir, endpoints=endpoints, approved=approved
            )
        )

    with (
        starting_together(len(chosen)),
        ThreadPoolExecutor(max_workers=max(1, len(chosen))) as pool,
    ):
        # Each thread runs in a copy of this flow's context: its run is a child of this one,
        # and it takes its turn in the group started together.
        futures = {env: pool.submit(contextvars.copy_context().run, one, env) for env in chosen}
        results = {env: future.result() for env, future in futures.items()}
    return {"environments": results}
