"""`mlplat kubeconfig ENV`: a kubeconfig for an environment's cluster, through the Connect
Gateway (default) or the cluster's DNS-based control-plane endpoint (`--via dns`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from mlplat.errors import MlplatError, SpecError
from mlplat.specs import PlatformSpec, load_spec, naming
from mlplat.target import Target, google, sandbox_from_file
from mlplat_cli import services
from mlplat_cli.spec_commands import DEFAULT_SPEC_DIR


def register(commands: Any) -> None:
    """Add `mlplat kubeconfig` to the parser."""
    sub = commands.add_parser(
        "kubeconfig",
        help="write a kubeconfig for an environment's cluster (Connect Gateway or DNS endpoint)",
        description="Print (or write) a kubeconfig reaching ENV's private cluster through its "
        "fleet membership's Connect Gateway, or with --via dns through the cluster's DNS-based "
        "control-plane endpoint. Use: mlplat kubeconfig dev -o kc; KUBECONFIG=kc kubectl get ns",
    )
    sub.add_argument(
        "--via",
        choices=("gateway", "dns"),
        default="gateway",
        help="gateway: the fleet membership's Connect Gateway (default); dns: the cluster's "
        "DNS endpoint (cluster.dns_endpoint in the spec)",
    )
    sub.add_argument("env", help="environment name")
    sub.add_argument("-o", "--output", type=Path, help="file to write (mode 0600); default stdout")
    sub.add_argument("--target", choices=("sandbox", "gcp"), default="sandbox")
    sub.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR)
    sub.set_defaults(run=run_kubeconfig)


def _target(name: str) -> Target:
    if name == "gcp":
        return google()
    env_path = os.environ.get("MLPLAT_SANDBOX_ENDPOINTS")
    path = Path(env_path) if env_path else services.sandbox_endpoints(services.state_dir())
    if path is None:
        raise MlplatError(
            "no sandbox is running: start it with `mlplat up` or `mlplat sandbox serve`"
        )
    return sandbox_from_file(path)


def _dns_config(target: Target, spec: PlatformSpec, env_name: str, project: str) -> dict[str, Any]:
    from mlplat.gcp import container  # noqa: PLC0415 - the Google clients load in seconds
    from mlplat.k8s.kubeconfig import dns_kubeconfig  # noqa: PLC0415

    env = spec.environments[env_name]
    location = naming.region(spec.platform, env)
    path = container.cluster_path(project, location, naming.cluster_name(spec.platform, env))
    cluster = container.get_cluster(target, path)
    if cluster is None:
        raise MlplatError(f"cluster {path} not found: run `mlplat up --env {env_name}`")
    dns = cluster.get("controlPlaneEndpointsConfig", {}).get("dnsEndpointConfig", {})
    if not dns.get("endpoint") or not dns.get("allowExternalTraffic"):
        raise MlplatError(
            f"the DNS endpoint of {path} admits no user traffic (cluster.dns_endpoint in the "
            f"spec of {env_name}, then `mlplat up --env {env_name}`); use --via gateway"
        )
    return dns_kubeconfig(target, project, path, str(dns["endpoint"]))


def run_kubeconfig(args: argparse.Namespace) -> int:
    from mlplat.gcp import projects  # noqa: PLC0415 - only this command needs the clients
    from mlplat.k8s.kubeconfig import kubeconfig  # noqa: PLC0415

    try:
        spec = load_spec(args.spec)
        if args.env not in spec.environments:
            print(
                f"mlplat: unknown environment {args.env!r} (known: "
                f"{', '.join(sorted(spec.environments))})",
                file=sys.stderr,
            )
            return 2
        env = spec.environments[args.env]
        target = _target(args.target)
        project_id = naming.project_id(spec.platform, env)
        project = projects.get(target, project_id)
        if project is None:
            raise MlplatError(f"project {project_id} not found: run `mlplat up --env {args.env}`")
        if args.via == "dns":
            config = _dns_config(target, spec, args.env, project_id)
        else:
            number = str(project["name"]).split("/", 1)[1]
            config = kubeconfig(target, number, naming.membership_id(spec.platform, env))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (MlplatError, OSError) as exc:
        print(f"mlplat: {exc}", file=sys.stderr)
        return 1
    text = yaml.safe_dump(config, sort_keys=False)
    if args.output is None:
        sys.stdout.write(text)
    else:
        services.write_private(args.output, text)
        print(f"wrote {args.output}; use: KUBECONFIG={args.output} kubectl get namespaces")
    return 0
