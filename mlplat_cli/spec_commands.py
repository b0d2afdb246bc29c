"""`mlplat validate` and `mlplat schema`: check the spec and publish its JSON schema."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mlplat.errors import SpecError
from mlplat.specs import load_spec
from mlplat.specs.schema import stale_schemas, write_schemas

DEFAULT_SPEC_DIR = Path("infra_specs")


def register(commands: Any) -> None:
    """Add the spec subcommands to the `mlplat` parser."""
    validate = commands.add_parser(
        "validate",
        help="check the platform spec and report every problem with file and line",
        description="Validate infra_specs/ (or PATH) without calling any API. "
        "Exit 0 when valid, 2 with every problem on stderr when not.",
    )
    validate.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=DEFAULT_SPEC_DIR,
        help="spec directory (default: infra_specs)",
    )
    validate.set_defaults(run=run_validate)

    schema = commands.add_parser(
        "schema",
        help="write the JSON schema of the spec files",
        description="Write platform/environment/team JSON schemas for editors and CI.",
    )
    schema.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_SPEC_DIR / "schema",
        help="directory to write into (default: infra_specs/schema)",
    )
    schema.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 2 if the committed schema is stale",
    )
    schema.set_defaults(run=run_schema)


def run_validate(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(args.path)
    except SpecError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        count = len(exc.issues)
        print(f"{args.path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 2
    teams = sum(len(spec.teams_in(env)) for env in spec.environments)
    print(
        f"{args.path}: valid — platform {spec.platform.name!r}, "
        f"{len(spec.environments)} environments ({', '.join(spec.environments)}), "
        f"{len(spec.teams)} teams, {teams} team spaces"
    )
    return 0


def run_schema(args: argparse.Namespace) -> int:
    if args.check:
        stale = stale_schemas(args.out)
        if stale:
            print(
                f"stale schema in {args.out}: {', '.join(stale)} (run `mlplat schema`)",
                file=sys.stderr,
            )
            return 2
        print(f"{args.out}: schema is current")
        return 0
    for file in write_schemas(args.out):
        print(f"wrote {file}")
    return 0
