"""Every derived resource name in one pure module, with the limits of the API that owns it."""

from __future__ import annotations

import hashlib
import re

from mlplat.specs.models import Environment, NodePool, Platform, Team

REPOSYNC_NAME = "repo-sync"
"""Name of each team's RepoSync; Config Sync's default name, so its reconciler is short."""

CONFIG_MANAGEMENT_NAMESPACE = "config-management-system"
ROOTSYNC_NAME = "root-sync"
GIT_CREDS_SECRET = "git-creds"
PODS_RANGE = "pods"
SERVICES_RANGE = "services"

_GSA_ID = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_RFC1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class NamingError(ValueError):
    """A derived name breaks the limits of the API that will receive it."""


def _checked(name: str, what: str, limit: int) -> str:
    if len(name) > limit:
        raise NamingError(f"{what} {name!r} is {len(name)} characters; the limit is {limit}")
    if not _RFC1035.match(name):
        raise NamingError(f"{what} {name!r} is not a valid name")
    return name


def _shortened(name: str, limit: int) -> str:
    """`name` itself when it fits, else a prefix plus a stable hash so that it stays unique."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: limit - 7].rstrip('-')}-{digest}"


def project_id(platform: Platform, env: Environment) -> str:
    """The environment's GCP project: explicit, or `<platform>-<env>-<suffix>` (6–30 chars)."""
    if env.project_id:
        return env.project_id
    derived = f"{platform.name}-{env.name}-{platform.project_suffix}"
    if not 6 <= len(derived) <= 30:
        raise NamingError(
            f"derived project ID {derived!r} is {len(derived)} characters; GCP allows 6 to 30 "
            "(shorten the platform name or the suffix, or set project_id)"
        )
    return derived


def region(platform: Platform, env: Environment) -> str:
    return env.region or platform.region


def zones(platform: Platform, env: Environment) -> tuple[str, ...]:
    """Full zone names of the cluster's node locations."""
    return tuple(f"{region(platform, env)}-{suffix}" for suffix in env.cluster.zones)


def network_name(platform: Platform, env: Environment) -> str:
    return _checked(f"{platform.name}-{env.name}-vpc", "network name", 63)


def subnet_name(platform: Platform, env: Environment) -> str:
    return _checked(f"{platform.name}-{env.name}-subnet", "subnet name", 63)


def router_name(platform: Platform, env: Environment) -> str:
    return _checked(f"{platform.name}-{env.name}-router", "router name", 63)


def nat_name(platform: Platform, env: Environment) -> str:
    return _checked(f"{platform.name}-{env.name}-nat", "NAT name", 63)


def cluster_name(platform: Platform, env: Environment) -> str:
    """GKE cluster name (RFC 1035, at most 40 characters)."""
    return _checked(f"{platform.name}-{env.name}", "cluster name", 40)


def membership_id(platform: Platform, env: Environment) -> str:
    """Fleet membership ID: the cluster name, unique per project because it holds the env."""
    return _checked(cluster_name(platform, env), "membership ID", 63)


def reservation_name(platform: Platform, env: Environment, pool: NodePool) -> str:
    return _checked(f"{cluster_name(platform, env)}-{pool.name}", "reservation name", 63)


def node_service_account_id(platform: Platform, env: Environment) -> str:
    """Account ID of the cluster's minimal node service account (6–30 characters)."""
    return _gsa(f"{platform.name}-{env.name}-nodes")


def team_service_account_id(platform: Platform, env: Environment, team: Team | str) -> str:
    """Account ID of the Google service account a team's workloads act as (from the team's
    name alone, so that an offboarded team's account is found without its spec)."""
    name = team if isinstance(team, str) else team.name
    return _gsa(f"{platform.name}-{env.name}-{name}")


def _gsa(name: str) -> str:
    account = _shortened(name, 30)
    if not _GSA_ID.match(account):
        raise NamingError(f"service account ID {account!r} must be 6–30 characters")
    return account


def service_account_email(account_id: str, project: str) -> str:
    return f"{account_id}@{project}.iam.gserviceaccount.com"


def workload_pool(project: str) -> str:
    return f"{project}.svc.id.goog"


def config_sync_branch(env: Environment) -> str:
    return env.config_sync_branch or env.name


def team_apps_dir(team: Team) -> str:
    """The repository folder a team's RepoSync reads."""
    return f"manifests/apps/{team.name}"


def reconciler_name(namespace: str, reposync: str = REPOSYNC_NAME) -> str:
    """Config Sync's namespace reconciler for a RepoSync (its Deployment and service account).

    `ns-reconciler-<ns>` for a RepoSync named `repo-sync`, else
    `ns-reconciler-<ns>-<reposync>-<len(reposync)>`; Config Sync refuses names over 63.
    """
    if reposync == REPOSYNC_NAME:
        name = f"ns-reconciler-{namespace}"
    else:
        name = f"ns-reconciler-{namespace}-{reposync}-{len(reposync)}"
    return _checked(name, "reconciler name", 63)
