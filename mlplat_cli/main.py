"""`mlplat`: the command line of the ML platform on GKE."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from mlplat_cli import (
    approval_commands,
    down_command,
    drift_command,
    kubeconfig_command,
    sandbox_commands,
    session,
    spec_commands,
    team_commands,
    up_commands,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INVALID = 2


def build_parser() -> argparse.ArgumentParser:
    """The `mlplat` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="mlplat",
        description=(
            "Stamp out and keep converged a multi-environment ML platform on GKE: projects, "
            "private clusters with GPU pools, fleet + Config Sync + Policy Controller, a GitOps "
            "repository, team spaces and Ray per team."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    spec_commands.register(commands)
    up_commands.register(commands)
    down_command.register(commands)
    team_commands.register(commands)
    team_commands.register_promote(commands)
    kubeconfig_command.register(commands)
    drift_command.register(commands)
    approval_commands.register(commands)
    sandbox_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `mlplat` command; returns its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["sandbox"]:  # the sandbox parses its own options, --help included
        return sandbox_commands.delegate(words[1:])
    parser = build_parser()
    args = parser.parse_args(words)
    try:
        code: int = args.run(args)
    except session.CommandError as exc:
        print(f"mlplat: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
