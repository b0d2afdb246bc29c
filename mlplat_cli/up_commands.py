"""`mlplat up`, `mlplat plan`, `mlplat stop`: converge the platform through Prefect flows."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from mlplat.errors import MlplatError, SpecError
from mlplat.specs import load_spec
from mlplat_cli import console, runner, services, session
from mlplat_cli.spec_commands import DEFAULT_SPEC_DIR


def register(commands: Any) -> None:
    """Add up, plan and stop to the `mlplat` parser."""
    for name, help_text in (
        ("up", "provision (converge) the platform: sandbox by default, or GCP"),
        ("plan", "show what `up` would change, changing nothing (= up --dry-run)"),
    ):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--env",
            action="append",
            dest="envs",
            metavar="ENV",
            help="an environment to converge (repeatable; default: all)",
        )
        sub.add_argument(
            "--target",
            choices=("sandbox", "gcp"),
            default="sandbox",
            help="sandbox (local cloud, default) or gcp (Application Default "
            "Credentials, GITHUB_TOKEN)",
        )
        sub.add_argument(
            "--spec",
            type=Path,
            default=DEFAULT_SPEC_DIR,
            help="spec directory (default: infra_specs)",
        )
        sub.add_argument(
            "--latency",
            choices=("instant", "realistic"),
            default="instant",
            help="sandbox latency model when mlplat starts the sandbox",
        )
        sub.add_argument(
            "--time-scale",
            type=float,
            default=60.0,
            help="divide realistic sandbox durations by this (default: 60)",
        )
        sub.add_argument(
            "--verbose",
            action="store_true",
            help="print the full log of the runs (as the Prefect UI has it) instead of the "
            "progress view",
        )
        if name == "up":
            sub.add_argument("--dry-run", action="store_true", help="plan only")
            sub.add_argument(
                "--approve",
                action="store_true",
                help="approve beforehand the plans of environments that require approval "
                "(without it their runs pause with the plan until approved in the Prefect UI)",
            )
        sub.set_defaults(run=run_up, plan_only=name == "plan")
    stop = commands.add_parser("stop", help="stop the sandbox and Prefect server `up` started")
    stop.set_defaults(run=run_stop)


def run_up(args: argparse.Namespace) -> int:
    dry_run = bool(args.plan_only or getattr(args, "dry_run", False))
    try:
        spec = load_spec(args.spec)
    except SpecError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return 2
    try:
        endpoints, ui = session.prepare(args.target, spec, args.latency, args.time_scale)
    except (RuntimeError, OSError) as exc:
        print(f"mlplat: {exc}", file=sys.stderr)
        return 1
    approve = bool(getattr(args, "approve", False))
    gated = [
        name
        for name, env in sorted(spec.environments.items())
        if env.approval_required and (not args.envs or name in args.envs)
    ]
    if gated and not dry_run and not approve:
        print(
            f"{', '.join(gated)} require(s) approval: such a run pauses with its plan until "
            f"approved in the Prefect UI ({ui}); pass --approve to approve beforehand",
            file=sys.stderr,
        )
    from flows.provision_platform import provision_platform  # noqa: PLC0415 - after Prefect env

    names = sorted(set(args.envs or spec.environments) & set(spec.environments))
    view = console.Console(verbose=args.verbose, totals=_last_totals(names, dry_run))
    try:
        with view:
            result = runner.run(
                lambda: provision_platform(
                    envs=args.envs,
                    dry_run=dry_run,
                    spec_dir=str(args.spec),
                    endpoints=str(endpoints) if endpoints else None,
                    approved=approve,
                ),
                session.prefect_server(),
            )
    except (MlplatError, ValueError) as exc:
        print(f"\nmlplat: {exc}", file=sys.stderr)
        print(f"Runs and logs: {ui}", file=sys.stderr)
        return 1
    _summary(result, dry_run, ui, endpoints)
    for line in view.summary_lines():
        print(line)
    return 0


def _last_totals(envs: list[str], dry_run: bool) -> dict[str, int]:
    """How many resources each environment's last summary (or plan) counted: the progress
    view's denominator. None is known before an environment's first run."""
    from prefect.client.orchestration import get_client  # noqa: PLC0415 - after Prefect env
    from prefect.client.schemas.filters import (  # noqa: PLC0415
        ArtifactCollectionFilter,
        ArtifactCollectionFilterKey,
    )

    kind = "plan" if dry_run else "summary"
    keys = {f"{kind}-{env}": env for env in envs}
    try:
        with get_client(sync_client=True) as client:
            found = client.read_latest_artifacts(
                artifact_filter=ArtifactCollectionFilter(
                    key=ArtifactCollectionFilterKey(any_=sorted(keys))
                )
            )
    except Exception:  # only a denominator: the view goes on without it
        return {}
    totals = {}
    for artifact in found:
        counts = re.findall(r"(\d+) (?:create|update|noop|delete)\b", artifact.description or "")
        if artifact.key in keys and counts:
            totals[keys[artifact.key]] = sum(int(n) for n in counts)
    return totals


def _summary(result: dict[str, Any], dry_run: bool, ui: str, endpoints: Path | None) -> None:
    print("\n" + ("Plan" if dry_run else "Done") + ":")
    for env, outcome in sorted(result["environments"].items()):
        counts = ", ".join(f"{n} {a}" for a, n in outcome["counts"].items() if n)
        print(f"  {env}: {counts}")
        for row in outcome["rows"]:
            if row["action"] != "noop":
                fields = f" ({row['fields']})" if row["fields"] else ""
                print(f"    {row['action']:<7} {row['resource']}{fields}")
    print(f"\nPrefect UI (runs, logs, {'plan' if dry_run else 'summary'} artifacts): {ui}")
    if not dry_run:
        print(
            "Kubeconfig for a cluster: mlplat kubeconfig ENV (Connect Gateway; --via dns for "
            "its DNS endpoint)"
        )
    if endpoints is not None:
        print('gcloud/kubectl against the sandbox: eval "$(mlplat sandbox env)"; stop: mlplat stop')


def run_stop(args: argparse.Namespace) -> int:
    del args
    stopped = services.stop_services(services.state_dir())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0
