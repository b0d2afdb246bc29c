"""`mlplat approve ENV` and `mlplat reject ENV [--reason R]`: answer the run of ENV that is
paused with its plan for approval, as the Prefect UI's Resume does."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlplat_cli import session
from mlplat_cli.spec_commands import DEFAULT_SPEC_DIR

EXIT_OK, EXIT_NONE = 0, 1


def register(commands: Any) -> None:
    """Add `approve` and `reject` to the `mlplat` parser."""
    for verb, approve in (("approve", True), ("reject", False)):
        sub = commands.add_parser(
            verb,
            help=f"{verb} the plan of ENV's run that is paused for approval",
            description=f"{verb.capitalize()} the plan that ENV's paused run published "
            "(artifact plan-ENV in the Prefect UI). "
            + (
                "The run plans again: if the plan still is the one approved it applies it, "
                "else it pauses again with the new plan."
                if approve
                else "The run ends and changes nothing."
            ),
        )
        sub.add_argument("env", metavar="ENV", help="the environment")
        sub.add_argument("--reason", default="", help="why (kept with the run's input)")
        sub.add_argument("--target", choices=("sandbox", "gcp"), default="sandbox")
        sub.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR)
        sub.set_defaults(run=run_approve if approve else run_reject)


def run_approve(args: argparse.Namespace) -> int:
    return _answer(args, approve=True)


def run_reject(args: argparse.Namespace) -> int:
    return _answer(args, approve=False)


def _answer(args: argparse.Namespace, *, approve: bool) -> int:
    ready = session.start(args.target, args.spec)
    from flows.approvals import NoPausedRunError, answer_approval  # noqa: PLC0415
    from flows.provision_environment import context_of  # noqa: PLC0415

    endpoints = str(ready.endpoints) if ready.endpoints else None
    try:
        ctx = context_of(ready.spec, args.env, dry_run=True, endpoints=endpoints)
        run = answer_approval(ctx, approve, args.reason)
    except (NoPausedRunError, ValueError) as exc:
        print(f"mlplat: {exc}", file=sys.stderr)
        return EXIT_NONE
    what = (
        "approved: it plans again and applies the plan if it is still the one approved "
        "(else it pauses again with the new plan)"
        if approve
        else "rejected: it ends without a change"
    )
    print(f"{run.name} ({run.id}) {what}")
    print(f"Prefect UI: {ready.ui}/runs/flow-run/{run.id}")
    return EXIT_OK
