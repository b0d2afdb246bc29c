"""`mlplat drift`: report drift like `terraform plan -detailed-exitcode` (0 clean, 2 drift,
1 error); `--remediate` converges what drifted and reports what is left; `--prune` also deletes
what is unmanaged (inside what mlplat owns, declared by no spec)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mlplat_cli import session
from mlplat_cli.spec_commands import DEFAULT_SPEC_DIR

EXIT_CLEAN, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2


def register(commands: Any) -> None:
    sub = commands.add_parser(
        "drift",
        help="compare the spec with what is there (exit 0 clean, 2 drift, 1 error)",
        description="Check Google resources, the GitOps repository and sync state against the "
        "spec, comparing only the fields mlplat declares.",
    )
    sub.add_argument("--env", default="all", help="an environment (default: all)")
    sub.add_argument("--json", action="store_true", help="print the findings as JSON")
    sub.add_argument(
        "--remediate",
        action="store_true",
        help="converge what drifted (unmanaged objects are left alone), then report what is left",
    )
    sub.add_argument(
        "--prune",
        action="store_true",
        help="with --remediate (implied): also delete the unmanaged objects (node pools, "
        "subnetworks, service accounts, project IAM members, namespaces, RoleBindings)",
    )
    sub.add_argument("--target", choices=("sandbox", "gcp"), default="sandbox")
    sub.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR)
    sub.set_defaults(run=run_drift)


def run_drift(args: argparse.Namespace) -> int:
    ready = session.start(args.target, args.spec, spec_error=EXIT_ERROR)
    ui = ready.ui
    from flows.check_drift import check_drift  # noqa: PLC0415 - after the Prefect environment

    state = session.run(
        ready,
        lambda: check_drift(
            env=args.env,
            remediate=args.remediate,
            prune=args.prune,
            return_state=True,
            **ready.where(),
        ),
    )
    data = state.result(raise_on_failure=False)
    if not isinstance(data, dict):
        print(f"mlplat: the drift check failed: {data}; see {ui}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps(data, indent=2))
        return EXIT_DRIFT if data["findings"] else EXIT_CLEAN
    return print_findings(data, ui)


def print_findings(data: dict[str, Any], ui: str) -> int:
    """Print the check's findings (and what `--prune` would delete); the exit code."""
    found: list[dict[str, Any]] = data["findings"]
    if not found:
        print(f"no drift in {', '.join(data['environments'])}")
        return EXIT_CLEAN
    for f in found:
        detail = f" {f['field']}: {f['expected'] or '(absent)'} ≠ {f['actual'] or '(absent)'}"
        print(f"{f['environment']}: {f['drift']:<10} {f['resource']}{detail if f['field'] else ''}")
    from mlplat.converge.findings import prunable  # noqa: PLC0415 - the check ran; keep the CLI's start light

    unmanaged = [f for f in found if prunable(f)]
    if unmanaged:
        print("\n--prune would delete:")
        for f in unmanaged:
            role = f" ({f['field']})" if f["resource"].startswith("iam/project-member") else ""
            print(f"  {f['environment']}: {f['resource']}{role}")
    print(f"\n{len(found)} finding(s); details in the Prefect UI: {ui}")
    return EXIT_DRIFT
