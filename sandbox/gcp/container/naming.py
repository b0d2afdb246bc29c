"""How GKE names, links, versions and fingerprints its resources (Container v1), purely.

Identifiers are derived from a hash of their inputs, so the same request at the same time
always yields the same resource.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sandbox.gcp.container.versions import CHANNEL_DEFAULTS, RELEASES
from sandbox.gcp.names import digest

JSON = dict[str, Any]

CHANNEL_VERSIONS = CHANNEL_DEFAULTS  # each release channel's default version
FULL_VERSION = re.compile(r"^\d+\.\d+\.\d+-gke\.\d+$")
VERSION_PREFIX = re.compile(r"^\d+\.\d+(\.\d+)?$")
EMPTY_LABEL_FINGERPRINT = "a9dc16a7"  # what GKE reports for a cluster without labels
CLUSTER_LINK = re.compile(r"/projects/([^/]+)/(?:zones|locations)/([^/]+)/clusters/([^/]+)$")


def label_fingerprint(labels: Mapping[str, str] | None) -> str:
    """GKE's 8-hex-digit fingerprint of a label set."""
    if not labels:
        return EMPTY_LABEL_FINGERPRINT
    return digest(json.dumps(dict(labels), sort_keys=True))[:8]


def compute_etag(resource: Mapping[str, Any]) -> str:
    """A UUID-shaped checksum of the resource's fields, as GKE's `etag` looks."""
    body = {k: v for k, v in resource.items() if k != "etag"}
    return str(uuid.UUID(digest(json.dumps(body, sort_keys=True, default=str))[:32]))


def is_zonal(location: str) -> bool:
    """Whether a location is a zone (`us-central1-a`) rather than a region."""
    return re.fullmatch(r"[a-z]+-[a-z]+\d+-[a-z]", location) is not None


def region_of(location: str) -> str:
    """The region of a zone or region."""
    return location.rsplit("-", 1)[0] if is_zonal(location) else location


def cluster_link(host: str, project: str, location: str, name: str) -> str:
    """A cluster selfLink: `zones/` for zonal clusters, `locations/` for regional ones."""
    kind = "zones" if is_zonal(location) else "locations"
    return f"{host.rstrip('/')}/v1/projects/{project}/{kind}/{location}/clusters/{name}"


def cluster_path(cluster: Mapping[str, Any]) -> tuple[str, str, str]:
    """(project, location, name) of a stored cluster, from its selfLink."""
    found = CLUSTER_LINK.search(cluster["selfLink"])
    if found is None:
        raise ValueError(f"not a cluster selfLink: {cluster['selfLink']}")
    return found.group(1), found.group(2), found.group(3)


def resolve_version(requested: str | None, channel: str, master: str | None = None) -> str:
    """A concrete version for a requested one (`-`, `latest`, `1.X`, `1.X.Y` or explicit)."""
    if not requested or requested == "-":
        return master or CHANNEL_VERSIONS.get(channel, CHANNEL_VERSIONS["REGULAR"])
    if requested == "latest":
        return CHANNEL_VERSIONS["RAPID"]
    if FULL_VERSION.match(requested):
        return requested
    for version in RELEASES:  # highest first: `1.X` picks the highest patch of 1.X
        if _version_matches(version, requested):
            return version
    return f"{requested}.0-gke.1000000" if requested.count(".") == 1 else f"{requested}-gke.1000000"


def is_offered(requested: str) -> bool:
    """Whether a requested master version (alias, prefix or explicit) names an offered one."""
    if requested in ("", "-", "latest"):
        return True
    return any(_version_matches(version, requested) for version in RELEASES)


def _version_matches(version: str, requested: str) -> bool:
    return version == requested or version.startswith((requested + ".", requested + "-"))


def initial_channel(body: Mapping[str, Any]) -> str:
    """REGULAR by default; with a version and no channel, the most mature channel offering it."""
    if "releaseChannel" in body:
        return str(body["releaseChannel"].get("channel", "UNSPECIFIED"))
    requested = body.get("initialClusterVersion")
    if not requested or requested in ("-", "latest"):
        return "REGULAR"
    for channel in ("STABLE", "REGULAR", "RAPID"):
        if _version_matches(CHANNEL_VERSIONS[channel], requested):
            return channel
    return "UNSPECIFIED"


def version_at_least(version: str, minimum: tuple[int, int]) -> bool:
    """`1.34.1-gke.1431000` is at least (1, 34)."""
    parts = version.split("-", maxsplit=1)[0].split(".")
    try:
        return (int(parts[0]), int(parts[1])) >= minimum
    except (IndexError, ValueError):
        return False
