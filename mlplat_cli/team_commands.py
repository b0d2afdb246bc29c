"""`mlplat team onboard|offboard|ray ENV TEAM`: run a team's flows from the command line, as the
Prefect deployments onboard-team, offboard-team and deploy-ray do."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mlplat_cli import session
from mlplat_cli.spec_commands import DEFAULT_SPEC_DIR


def register(commands: Any) -> None:
    """Add `team` and its subcommands to the `mlplat` parser."""
    team = commands.add_parser(
        "team",
        help="onboard or offboard a team, or (re)deploy its Ray cluster",
        description="Teams are declared in infra_specs/teams/<team>.yaml; these commands "
        "converge one team on one provisioned environment.",
    )
    actions = team.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in (
        ("onboard", "namespace, roles, quota, RepoSync, Ray, notebook; access proven"),
        ("offboard", "remove everything of a team the spec no longer lists in ENV"),
        ("ray", "commit the team's RayCluster and wait until it is ready"),
    ):
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("env", metavar="ENV", help="the environment")
        sub.add_argument("team", metavar="TEAM", help="the team's name")
        if name == "offboard":
            sub.add_argument(
                "--yes", action="store_true", help="remove for real (without it: plan only)"
            )
        else:
            sub.add_argument("--dry-run", action="store_true", help="plan only")
        sub.add_argument("--json", action="store_true", help="print the result as JSON")
        sub.add_argument("--target", choices=("sandbox", "gcp"), default="sandbox")
        sub.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR)
        sub.set_defaults(run=run_team)


def register_promote(commands: Any) -> None:
    """Add `promote SOURCE TARGET` to the `mlplat` parser."""
    sub = commands.add_parser(
        "promote",
        help="move the teams' own files from one environment's branch to the next",
        description="Make TARGET's team-owned files (in manifests/apps/<team>/, those mlplat "
        "does not render) equal SOURCE's, by commit or, for protected branches, pull request; "
        "then wait until the teams' RepoSyncs on TARGET have synced it.",
    )
    sub.add_argument("source", metavar="SOURCE", help="environment to promote from")
    sub.add_argument("target", metavar="TARGET", help="environment to promote to")
    sub.add_argument("--team", help="only this team (default: every team in both)")
    sub.add_argument("--dry-run", action="store_true", help="plan only")
    sub.add_argument("--target-cloud", dest="cloud", choices=("sandbox", "gcp"), default="sandbox")
    sub.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR)
    sub.set_defaults(run=run_promote)


def run_promote(args: argparse.Namespace) -> int:
    ready = session.start(args.cloud, args.spec)
    from flows.promote import promote  # noqa: PLC0415 - after the Prefect environment

    result: dict[str, Any] = session.run(
        ready,
        lambda: promote(
            args.source, args.target, team=args.team, dry_run=args.dry_run, **ready.where()
        ),
    )
    for row in result["rows"]:
        detail = f" — {row['detail']}" if row["detail"] else ""
        fields = f" ({row['fields']})" if row["fields"] else ""
        print(f"  {row['action']:<7} {row['resource']}{fields}{detail}")
    print(f"Prefect UI (runs, logs, artifacts): {ready.ui}")
    return 0


def _flow(args: argparse.Namespace, ready: session.Ready) -> dict[str, Any]:
    # Imported here: the flows need the Prefect environment that session.start sets.
    if args.action == "onboard":
        from flows.onboard_team import onboard_team  # noqa: PLC0415

        onboarded: dict[str, Any] = onboard_team(
            args.env, args.team, dry_run=args.dry_run, **ready.where()
        )
        return onboarded
    if args.action == "ray":
        from flows.deploy_ray import deploy_ray  # noqa: PLC0415

        deployed: dict[str, Any] = deploy_ray(
            args.env, args.team, dry_run=args.dry_run, **ready.where()
        )
        return deployed
    from flows.offboard_team import offboard_team  # noqa: PLC0415

    offboarded: dict[str, Any] = offboard_team(
        args.env, args.team, confirm=args.yes, **ready.where()
    )
    return offboarded


def run_team(args: argparse.Namespace) -> int:
    ready = session.start(args.target, args.spec)
    result = session.run(ready, lambda: _flow(args, ready))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print()
    for row in result.get("rows", []):
        detail = f" — {row['detail']}" if row["detail"] else ""
        print(f"  {row['action']:<7} {row['resource']}{detail}")
    if args.action == "onboard":
        checked = result["access"]["checked"]
        print(f"\nteam {args.team} on {args.env}: namespace {result['namespace']}")
        if result["ray_endpoint"]:
            print(f"  Ray: {result['ray_endpoint']}")
        if checked:
            print(f"  access: {checked} SubjectAccessReviews as expected")
    elif args.action == "ray":
        print(f"\nRay of {args.team} on {args.env}: {result['endpoint']}")
    elif not args.yes:
        print("\nplan only: run again with --yes to remove")
    print(f"Prefect UI (runs, logs, artifacts): {ready.ui}")
    return 0
