"""Command line: `python -m sandbox serve` runs the local cloud; `python -m sandbox env` prints
the shell exports that point gcloud (and the tool) at it; `python -m sandbox kubeconfig` prints a
kubeconfig reaching a fleet membership's cluster through the Connect Gateway."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import sys
import threading
import urllib.request
from pathlib import Path

import yaml

from sandbox.cloud import ENDPOINTS_FILE, Sandbox
from sandbox.faults import load_file
from sandbox.github.component import ADMIN_TOKEN
from sandbox.k8s.gateway import CA_PATH
from sandbox.k8s.kubeconfig import kubeconfig
from sandbox.latency import AUTO_UPGRADE_CHANCE, chance

ENV_STATE_DIR = "MLPLAT_SANDBOX_STATE_DIR"
ENV_ENDPOINTS = "MLPLAT_SANDBOX_ENDPOINTS"


def default_state_dir() -> Path:
    """`$MLPLAT_SANDBOX_STATE_DIR`, else `$XDG_STATE_HOME/mlplat-sandbox` (~/.local/state/…)."""
    if os.environ.get(ENV_STATE_DIR):
        return Path(os.environ[ENV_STATE_DIR])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mlplat-sandbox"


def env_lines(state_dir: Path) -> list[str]:
    """`export` lines for a running sandbox whose endpoints.json is in state_dir."""
    path = state_dir / ENDPOINTS_FILE
    data = json.loads(path.read_text())
    lines = [
        f"export CLOUDSDK_API_ENDPOINT_OVERRIDES_{name.upper()}={shlex.quote(url + '/')}"
        for name, url in sorted(data["apis"].items())
    ]
    lines += [
        "export CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true",
        f"export CLOUDSDK_CONFIG={shlex.quote(str(state_dir / 'gcloud-config'))}",
        "export CLOUDSDK_CORE_DISABLE_PROMPTS=1",
        f"export {ENV_ENDPOINTS}={shlex.quote(str(path.resolve()))}",
        # The sandbox GitHub's fixed bot token (not a secret: it opens only this sandbox).
        f"export GITHUB_TOKEN={ADMIN_TOKEN}",
    ]
    return lines


def _serve(args: argparse.Namespace) -> int:
    faults = load_file(Path(args.faults)) if args.faults else None
    sandbox = Sandbox(
        args.state_dir,
        latency=args.latency,
        time_scale=args.time_scale,
        seed=args.seed,
        faults=faults,
        reuse_ports=True,
        auto_upgrade_chance=args.auto_upgrade_chance,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sandbox:
        print(f"sandbox state: {sandbox.state_dir}")
        for name, url in sandbox.endpoints()["apis"].items():
            print(f"  {name:<22} {url}")
        print(f"  {'admin':<22} {sandbox.admin_url}")
        print(f"endpoints: {sandbox.endpoints_path}")
        print(f'for gcloud: eval "$(python -m sandbox env --state-dir {args.state_dir})"')
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print("sandbox stopped")
    return 0


def _env(args: argparse.Namespace) -> int:
    try:
        lines = env_lines(Path(args.state_dir))
    except FileNotFoundError:
        print(
            f"no {ENDPOINTS_FILE} in {args.state_dir}: is `python -m sandbox serve` running?",
            file=sys.stderr,
        )
        return 1
    print("\n".join(lines))
    return 0


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
        return body


def project_number(crm_url: str, project: str) -> str:
    """A project's number, asked of the sandbox's Resource Manager (a number is kept as is)."""
    if project.isdigit():
        return project
    found = json.loads(_fetch(f"{crm_url.rstrip('/')}/v3/projects/{project}"))
    return str(found["name"]).split("/", 1)[1]


def kubeconfig_text(state_dir: Path, membership: str, project: str, user: str, token: str) -> str:
    """The kubeconfig (YAML) of a membership of a running sandbox: the gateway's https URL and
    its CA, a bearer token."""
    data = json.loads((state_dir / ENDPOINTS_FILE).read_text())
    gateway = str((data.get("components") or {}).get("connectgateway") or "")
    if not gateway:
        raise LookupError("the sandbox runs no Connect Gateway")
    number = project_number(str(data["apis"]["cloudresourcemanager"]), project)
    ca_pem = _fetch(gateway + CA_PATH).decode()
    https = gateway.replace("http://", "https://", 1)
    config = kubeconfig(https, number, membership, token, user, ca_pem=ca_pem)
    return yaml.safe_dump(config, sort_keys=False)


def _kubeconfig(args: argparse.Namespace) -> int:
    try:
        text = kubeconfig_text(
            Path(args.state_dir), args.membership, args.project, args.user, args.token
        )
    except FileNotFoundError:
        print(
            f"no {ENDPOINTS_FILE} in {args.state_dir}: is `python -m sandbox serve` running?",
            file=sys.stderr,
        )
        return 1
    except (LookupError, OSError, KeyError, ValueError) as exc:
        print(f"cannot write a kubeconfig: {exc}", file=sys.stderr)
        return 1
    print(text, end="")
    return 0


def parser(prog: str = "python -m sandbox") -> argparse.ArgumentParser:
    """The command line parser."""
    root = argparse.ArgumentParser(
        prog=prog,
        description="A local cloud speaking the real Google REST wire protocols.",
    )
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the sandbox in the foreground (Ctrl-C stops it)",
        description="Start every emulated API on its own loopback port, and the admin endpoint. "
        "State persists in the state directory; ports are reused when still free.",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir(),
        help="where state and endpoints.json live (default: %(default)s)",
    )
    serve.add_argument(
        "--latency",
        choices=("instant", "realistic"),
        default="instant",
        help="instant: operations finish at the next poll; realistic: durations "
        "sampled from the latency model (default: %(default)s)",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="divide realistic durations by this factor (default: %(default)s)",
    )
    serve.add_argument(
        "--seed", type=int, default=0, help="seed of the latency model (default: %(default)s)"
    )
    serve.add_argument(
        "--auto-upgrade-chance",
        type=chance,
        default=AUTO_UPGRADE_CHANCE,
        metavar="P",
        help="realistic: the share of new clusters that upgrade their control plane by "
        "themselves right after create, 0 to 1 (default: %(default)s)",
    )
    serve.add_argument(
        "--faults",
        metavar="FILE",
        help="fault injection rules, JSON or YAML (see sandbox/faults.py)",
    )
    serve.set_defaults(run=_serve)
    env = commands.add_parser(
        "env",
        help="print shell exports pointing gcloud and the tool at a running sandbox",
        description='Use as: eval "$(python -m sandbox env)".',
    )
    env.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir(),
        help="state directory of the running sandbox (default: %(default)s)",
    )
    env.set_defaults(run=_env)
    kube = commands.add_parser(
        "kubeconfig",
        help="print a kubeconfig for a fleet membership's cluster (through the Connect Gateway)",
        description="Use as: python -m sandbox kubeconfig ml-dev --project ml-dev-123 "
        "> kubeconfig; KUBECONFIG=kubeconfig kubectl get ns.",
    )
    kube.add_argument("membership", help="the fleet membership ID")
    kube.add_argument("--project", required=True, help="the membership's project (ID or number)")
    kube.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir(),
        help="state directory of the running sandbox (default: %(default)s)",
    )
    kube.add_argument(
        "--user", default="sandbox-admin", help="the kubeconfig user name (default: %(default)s)"
    )
    kube.add_argument(
        "--token",
        default="sandbox-admin",
        help="bearer token; `sandbox-admin…` is the cluster administrator (default: %(default)s)",
    )
    kube.set_defaults(run=_kubeconfig)
    return root


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
