"""`mlplat down ENV [--yes] [--delete-project]`: tear an environment down (plan without --yes)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlplat_cli import session
from mlplat_cli.spec_commands import DEFAULT_SPEC_DIR


def register(commands: Any) -> None:
    """Add `down` to the `mlplat` parser."""
    sub = commands.add_parser(
        "down",
        help="tear an environment down (without --yes: show what would be deleted)",
        description="Delete, in reverse order, everything mlplat made for ENV: Git content "
        "(Config Sync prunes teams and Ray), fleet spec and membership, cluster and node pools, "
        "service accounts, network and reservations, the branch; the project only with "
        "--delete-project (its ID then stays reserved for 30 days).",
    )
    sub.add_argument("env", metavar="ENV", help="the environment")
    sub.add_argument("--yes", action="store_true", help="delete for real")
    sub.add_argument("--delete-project", action="store_true", help="delete the project too")
    sub.add_argument("--target", choices=("sandbox", "gcp"), default="sandbox")
    sub.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR)
    sub.set_defaults(run=run_down)


def run_down(args: argparse.Namespace) -> int:
    ready = session.start(args.target, args.spec)
    from flows.teardown_environment import teardown_environment  # noqa: PLC0415

    result: dict[str, Any] = session.run(
        ready,
        lambda: teardown_environment(
            args.env, confirm=args.yes, delete_project=args.delete_project, **ready.where()
        ),
    )
    print("\n" + ("Deleted" if args.yes else "Would delete (run again with --yes)") + ":")
    deleted = [row for row in result["rows"] if row["action"] == "delete"]
    for row in deleted:
        detail = f" — {row['detail']}" if row["detail"] else ""
        print(f"  {row['resource']}{detail}")
    if not deleted:
        print("  nothing: the environment is gone already")
    print(f"Prefect UI (runs, logs, artifacts): {ready.ui}")
    return 0
