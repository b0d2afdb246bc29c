"""`mlplat sandbox …`: the sandbox's own command line (serve, env), under the mlplat command."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    """Add `mlplat sandbox` to the parser; everything after it goes to the sandbox's parser."""
    sandbox = commands.add_parser(
        "sandbox",
        help="run the local cloud: `serve` in the foreground, `env` for gcloud/kubectl exports",
        add_help=False,
    )
    sandbox.add_argument("args", nargs=argparse.REMAINDER)
    sandbox.set_defaults(run=run_sandbox)


def run_sandbox(args: argparse.Namespace) -> int:
    return delegate(args.args)


def delegate(argv: list[str]) -> int:
    """Run the sandbox's command line with `argv` (the words after `mlplat sandbox`)."""
    from sandbox.__main__ import parser  # noqa: PLC0415 - only this command imports the sandbox

    parsed = parser(prog="mlplat sandbox").parse_args(argv or ["--help"])
    code: int = parsed.run(parsed)
    return code
