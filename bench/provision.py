"""Benchmark: provision platforms of growing size on the sandbox in `realistic` latency (scaled
by --time-scale), then re-run each converged; print wall time against the critical-path bound,
Terraform's and the seed's schedules of the same graph, API calls, and peak RSS.

    python -m bench.provision [--sizes 1x2,3x2,3x20] [--time-scale 60] [--out bench/results]

The sandbox runs as its own process (so RSS is mlplat's and Prefect's); the flows run in this
process against a temporary Prefect server. Results: OUT/latest.json and OUT/latest.md."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from bench import schedule

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "infra_specs"
ENVS = ("dev", "staging", "prod")


def make_spec(directory: Path, envs: int, teams: int) -> Path:
    """The reference spec with `teams` teams (the reference's two, or generated CPU teams)."""
    spec = directory / "infra_specs"
    shutil.copytree(REFERENCE, spec)
    if teams != 2:
        for path in (spec / "teams").glob("*.yaml"):
            path.unlink()
        for t in range(teams):
            team = {
                "name": f"team{t:03d}",
                "environments": list(ENVS[:envs]),
                "members": {"developer": {"users": [f"dev{t}@example.com"]}},
                "quota": {"cpu": "16", "memory": "64Gi", "gpu": 0, "pods": 50},
                "ray": {
                    "head": {"cpu": "1", "memory": "4Gi"},
                    "workers": [
                        {
                            "name": "cpu",
                            "replicas": 1,
                            "min_replicas": 0,
                            "max_replicas": 2,
                            "resources": {"cpu": "4", "memory": "16Gi"},
                        }
                    ],
                },
            }
            (spec / "teams" / f"team{t:03d}.yaml").write_text(yaml.safe_dump(team))
    return spec


def _admin(endpoints: Path, method: str, path: str) -> Any:
    admin = json.loads(endpoints.read_text())["admin"]
    request = urllib.request.Request(
        admin + path, method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _calls(endpoints: Path) -> dict[str, Any]:
    snapshot = _admin(endpoints, "GET", "/counters")
    methods = snapshot["methods"]
    return {
        "reads": sum(m["reads"] for m in methods.values()),
        "writes": sum(m["writes"] for m in methods.values()),
        "by_method": {name: m["count"] for name, m in methods.items()},
    }


def run_size(envs: int, teams: int, time_scale: float, work: Path) -> dict[str, Any]:
    """Cold provisioning, then a converged re-run, of one size on a fresh sandbox."""
    from flows.provision_platform import provision_platform  # noqa: PLC0415 - after Prefect
    from mlplat_cli import services  # noqa: PLC0415

    spec = make_spec(work, envs, teams)
    state = work / "sandbox"
    endpoints, _ = services.ensure_sandbox(state, "realistic", time_scale)
    try:
        services_org(endpoints)
        chosen = list(ENVS[:envs])
        started = time.monotonic()
        cold = provision_platform(
            envs=chosen, spec_dir=str(spec), endpoints=str(endpoints), approved=True
        )
        wall = time.monotonic() - started
        cold_calls = _calls(endpoints)
        _admin(endpoints, "POST", "/counters/reset")
        started = time.monotonic()
        again = provision_platform(
            envs=chosen, spec_dir=str(spec), endpoints=str(endpoints), approved=True
        )
        rerun_wall = time.monotonic() - started
        rerun_calls = _calls(endpoints)
    finally:
        services.stop_services(state)
    graph = schedule.platform(envs, teams)
    bound = schedule.critical_path(graph) / time_scale
    managed = sum(len(r["rows"]) for r in again["environments"].values())
    return {
        "size": f"{envs} env × {teams} teams",
        "wall_s": round(wall, 1),
        "bound_s": round(bound, 1),
        "wall_over_bound": round(wall / bound, 2),
        "terraform_over_mlplat": round(schedule.terraform(graph) / time_scale / wall, 2),
        "seed_over_mlplat": round(schedule.sequential(graph) / time_scale / wall, 2),
        "calls": cold_calls,
        "rerun": {
            "wall_s": round(rerun_wall, 1),
            "writes": rerun_calls["writes"],
            "reads": rerun_calls["reads"],
            "managed_resources": managed,
            "reads_per_resource": round(rerun_calls["reads"] / managed, 2),
        },
        "changes": {env: outcome["counts"] for env, outcome in cold["environments"].items()},
    }


def services_org(endpoints: Path) -> None:
    """The reference spec's GitHub organization, as `mlplat up` creates it."""
    from mlplat_cli.session import sandbox_org  # noqa: PLC0415

    sandbox_org(endpoints, "ml-platform-org")


def markdown(results: list[dict[str, Any]], time_scale: float) -> str:
    lines = [
        f"Sandbox `realistic` latency ÷ {time_scale:g}, seed 0; bound = critical path of the "
        "model's p50s (bench/schedule.py).",
        "",
        "| size | wall s | bound s | wall/bound | Terraform/mlplat | seed/mlplat | calls (r/w) "
        "| re-run s | re-run writes | re-run reads/resource | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        c, rr = r["calls"], r["rerun"]
        lines.append(
            f"| {r['size']} | {r['wall_s']} | {r['bound_s']} | {r['wall_over_bound']} | "
            f"{r['terraform_over_mlplat']} | {r['seed_over_mlplat']} | {c['reads']}/{c['writes']} "
            f"| {rr['wall_s']} | {rr['writes']} | {rr['reads_per_resource']} | "
            f"{r['peak_rss_mb']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1x2,3x2,3x20", help="ENVSxTEAMS,… (envs ≤ 3)")
    parser.add_argument("--time-scale", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from prefect.testing.utilities import prefect_test_harness  # noqa: PLC0415

    from sandbox.github.component import ADMIN_TOKEN  # noqa: PLC0415

    os.environ["GITHUB_TOKEN"] = ADMIN_TOKEN  # the sandbox's bot, as `mlplat up` sets it
    results = []
    with prefect_test_harness(server_startup_timeout=120):
        for size in args.sizes.split(","):
            envs, teams = (int(x) for x in size.split("x"))
            work = Path(tempfile.mkdtemp(prefix="mlplat-bench-"))
            try:
                result = run_size(envs, teams, args.time_scale, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            result["peak_rss_mb"] = round(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
            )
            print(json.dumps(result), flush=True)
            results.append(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results, args.time_scale)
    (args.out / "latest.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
