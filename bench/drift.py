"""Benchmark: a drift check over every environment of a provisioned platform, by size.

    python -m bench.drift [--sizes 1x10,1x40,3x10] [--out bench/results]

Each size (ENVSxTEAMS) is provisioned on a fresh sandbox in instant latency, then
`check_drift(env="all")` runs once, converged: wall time, calls (reads, by API), peak RSS of
this process (the flows'; the sandbox runs as its own process). Reads per cluster and per team
show what the check's cost grows with. Results: OUT/drift.json and OUT/drift.md."""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.provision import (
    ROOT,
    admin,
    calls,
    env_names,
    make_spec,
    run_sizes,
    services_org,
    write_results,
)


def run_size(envs: int, teams: int, work: Path) -> dict[str, Any]:
    """Provision one size, then time one converged drift check of every environment."""
    from flows.check_drift import check_drift  # noqa: PLC0415 - after Prefect
    from flows.provision_platform import provision_platform  # noqa: PLC0415
    from mlplat_cli import services  # noqa: PLC0415

    spec = make_spec(work, envs, teams)
    state = work / "sandbox"
    endpoints, _ = services.ensure_sandbox(state, "instant", 1.0)
    try:
        services_org(endpoints)
        started = time.monotonic()
        provision_platform(
            envs=env_names(envs), spec_dir=str(spec), endpoints=str(endpoints), approved=True
        )
        provisioned = time.monotonic() - started
        admin(endpoints, "POST", "/counters/reset")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.monotonic()
        outcome = check_drift(
            "all", spec_dir=str(spec), endpoints=str(endpoints), return_state=True
        )
        wall = time.monotonic() - started
        counted = calls(endpoints)
    finally:
        services.stop_services(state)
    apis: dict[str, int] = {}
    for method, count in counted["by_method"].items():
        api = method.split(".", 1)[0]
        apis[api] = apis.get(api, 0) + count
    return {
        "size": f"{envs} clusters × {teams} teams",
        "clusters": envs,
        "teams": teams,
        "provision_s": round(provisioned, 1),
        "drift_wall_s": round(wall, 1),
        "drift_state": str(outcome.name),
        "reads": counted["reads"],
        "writes": counted["writes"],
        "reads_per_cluster": round(counted["reads"] / envs, 1),
        "reads_per_cluster_team": round(counted["reads"] / (envs * teams), 1),
        "by_api": apis,
        "peak_rss_mb_before": round(rss_before / 1024, 1),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "Drift check of every environment (`check_drift all`), converged, sandbox in instant "
        "latency.",
        "",
        "| size | drift s | state | reads | writes | reads/cluster | reads/(cluster·team) "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['size']} | {r['drift_wall_s']} | {r['drift_state']} | {r['reads']} | "
        f"{r['writes']} | {r['reads_per_cluster']} | {r['reads_per_cluster_team']} | "
        f"{r['peak_rss_mb']} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1x10,1x40,3x10", help="ENVSxTEAMS,…")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    results = run_sizes(args.sizes, run_size)
    write_results(args.out, "drift", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
