"""Benchmark: a drift check over every environment of a provisioned platform, by size.

    python -m bench.drift [--sizes 1x10,1x100,10x10,50x100] [--build core|flows]
                          [--keep DIR] [--out bench/results]

Each size (ENVSxTEAMS) is provisioned on a sandbox in instant latency (`--build core`:
bench/platform_state.py, the core calls without Prefect; `flows`: provision_platform), then
`check_drift(env="all")` runs once, converged, in a fresh process: its wall time, peak RSS, and
the sandbox's calls (reads, by API). Reads per cluster and per team show what the check's cost
grows with. While the check runs the sandbox's in-cluster controllers are paused: on Google
they run on the clusters, not on the machine that runs mlplat. With `--keep DIR` a size's
sandbox stays in DIR/ENVSxTEAMS and a later run measures it again without building it.
Results: OUT/drift.json and OUT/drift.md."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.provision import ROOT, admin, calls, env_names, make_spec, services_org, write_results

BUILT = "built.json"


def build(envs: int, teams: int, work: Path, how: str) -> dict[str, Any]:
    """Provision the size in `work` once (kept: a second call reads what the first wrote)."""
    marker = work / BUILT
    if marker.exists():
        return dict(json.loads(marker.read_text()))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    spec = make_spec(work, envs, teams)
    from mlplat_cli import services  # noqa: PLC0415

    endpoints, _ = services.ensure_sandbox(work / "sandbox", "instant", 1.0)
    services_org(endpoints)
    token = os.environ["GITHUB_TOKEN"]
    started = time.monotonic()
    if how == "core":
        from bench import platform_state  # noqa: PLC0415

        platform_state.build(spec, endpoints, env_names(envs), token)
    else:
        from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

        with prefect_test_harness(server_startup_timeout=120):
            from flows.provision_platform import provision_platform  # noqa: PLC0415

            provision_platform(
                envs=env_names(envs), spec_dir=str(spec), endpoints=str(endpoints), approved=True
            )
    built = {"build": how, "build_s": round(time.monotonic() - started, 1)}
    marker.write_text(json.dumps(built))
    return built


def measure(envs: int, teams: int, work: Path) -> dict[str, Any]:
    """One converged drift check of the built size, in a child process."""
    from mlplat_cli import services  # noqa: PLC0415

    endpoints, _ = services.ensure_sandbox(work / "sandbox", "instant", 1.0)
    for _ in range(60):  # a large state takes a moment to open after endpoints.json is written
        try:
            admin(endpoints, "GET", "/healthz")
            break
        except OSError:
            time.sleep(1)
    admin(endpoints, "PUT", "/controllers", {"paused": True})
    admin(endpoints, "POST", "/counters/reset")
    try:
        child = subprocess.run(
            [sys.executable, "-m", "bench.drift", "--check", str(work / "infra_specs"),
             str(endpoints)],
            capture_output=True, text=True, check=False, cwd=ROOT,
        )  # fmt: skip
    finally:
        admin(endpoints, "PUT", "/controllers", {"paused": False})
    if child.returncode != 0:
        raise RuntimeError(f"drift check of {envs}x{teams} failed:\n{child.stderr[-3000:]}")
    checked = json.loads(child.stdout.strip().splitlines()[-1])
    counted = calls(endpoints)
    apis: dict[str, int] = {}
    for method, count in counted["by_method"].items():
        api = method.split(".", 1)[0]
        apis[api] = apis.get(api, 0) + count
    return {
        "size": f"{envs} clusters × {teams} teams",
        "clusters": envs,
        "teams": teams,
        **checked,
        "reads": counted["reads"],
        "writes": counted["writes"],
        "reads_per_cluster": round(counted["reads"] / envs, 1),
        "reads_per_cluster_team": round(counted["reads"] / (envs * teams), 2),
        "by_api": apis,
    }


def check(spec: str, endpoints: str) -> dict[str, Any]:
    """In the child: `check_drift all` under a temporary Prefect server; wall time, final
    state, findings and this process's peak RSS."""
    from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

    with prefect_test_harness(server_startup_timeout=120):
        from flows.check_drift import check_drift  # noqa: PLC0415

        started = time.monotonic()
        state = check_drift("all", spec_dir=spec, endpoints=endpoints, return_state=True)
        wall = time.monotonic() - started
        data: Any = state.result(raise_on_failure=False)
    return {
        "drift_wall_s": round(wall, 1),
        "drift_state": str(state.name),
        "findings": len(data.get("findings", [])) if isinstance(data, dict) else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "Drift check of every environment (`check_drift all`), converged, sandbox in instant "
        "latency, its in-cluster controllers paused; peak RSS of the checking process.",
        "",
        "| size | drift s | state | reads | writes | reads/cluster | reads/(cluster·team) "
        "| peak RSS MB | built by, s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['size']} | {r['drift_wall_s']} | {r['drift_state']} | {r['reads']} | "
        f"{r['writes']} | {r['reads_per_cluster']} | {r['reads_per_cluster_team']} | "
        f"{r['peak_rss_mb']} | {r['build']}, {r['build_s']} |"
        for r in results
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1x10,1x100,10x10,50x100", help="ENVSxTEAMS,…")
    parser.add_argument("--build", choices=("core", "flows"), default="core")
    parser.add_argument("--keep", type=Path, help="keep each size's sandbox under this directory")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--check", nargs=2, metavar=("SPEC", "ENDPOINTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    from sandbox.github.component import ADMIN_TOKEN  # noqa: PLC0415

    os.environ["GITHUB_TOKEN"] = ADMIN_TOKEN  # the sandbox's bot, as `mlplat up` sets it
    if args.check:
        print(json.dumps(check(*args.check)), flush=True)
        return 0
    from mlplat_cli import services  # noqa: PLC0415

    results = []
    for size in args.sizes.split(","):
        envs, teams = (int(x) for x in size.split("x"))
        base = args.keep or Path(tempfile.mkdtemp(prefix="mlplat-bench-"))
        work = base / f"{envs}x{teams}"
        try:
            built = build(envs, teams, work, args.build)
            result = {**measure(envs, teams, work), **built}
        finally:
            services.stop_services(work / "sandbox")
            if args.keep is None:
                shutil.rmtree(base, ignore_errors=True)
        print(json.dumps(result), flush=True)
        results.append(result)
    write_results(args.out, "drift", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
