"""The spec's release channel and minimum master version against what GKE offers
(`getServerConfig`'s answer): checked before any write to the cluster, named like spec errors.

A minimum an existing cluster already meets is not checked against the offer: GKE drops old
versions from it within months, and a cluster at or past its minimum needs none of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlplat.errors import SpecIssue
from mlplat.specs.platform_spec import PlatformSpec


def offers(version: str, requested: str) -> bool:
    """Whether an offered version satisfies a requested one (`1.33`, `1.33.5`, or explicit),
    as GKE reads a requested version."""
    return version == requested or version.startswith((requested + ".", requested + "-"))


def _numbers(version: str) -> tuple[int, ...]:
    """`1.33.5-gke.1080000` → (1, 33, 5, 1080000); `1.33` → (1, 33)."""
    return tuple(int(part) for part in version.replace("-gke.", ".").split(".") if part.isdigit())


def meets(current: str, minimum: str) -> bool:
    """Whether a cluster at `current` is at or past `minimum` (`1.33`, `1.33.5`, explicit)."""
    wanted = _numbers(minimum)
    return _numbers(current)[: len(wanted)] >= wanted


def version_issues(
    spec: PlatformSpec,
    env_name: str,
    server_config: Mapping[str, Any],
    location: str,
    current: str | None = None,
) -> list[SpecIssue]:
    """What the environment's cluster asks for that the server config does not offer
    (`current`: the version of the existing cluster, if any)."""
    cluster = spec.environments[env_name].cluster
    channels = {str(c.get("channel")): c for c in server_config.get("channels", [])}
    channel = cluster.release_channel.value
    issues: list[SpecIssue] = []

    def issue(key: str, message: str) -> None:
        path = ("environments", env_name, "cluster", key)
        origin = spec.origin(path)
        issues.append(SpecIssue(origin.file, origin.line, ".".join(path), message))

    if channel not in channels:
        offered = ", ".join(sorted(channels)) or "none"
        issue("release_channel", f"{channel} is not offered in {location} (offered: {offered})")
        valid = list(server_config.get("validMasterVersions", []))
    else:
        valid = list(channels[channel].get("validVersions", []))
    wanted = cluster.min_master_version
    met = bool(wanted and current and meets(current, wanted))
    if wanted and not met and not any(offers(version, wanted) for version in valid):
        issue(
            "min_master_version",
            f"{wanted} is not offered on the {channel} channel in {location} "
            f"(offered: {', '.join(valid) or 'none'})",
        )
    return issues


def planned_version(spec: PlatformSpec, env_name: str, server_config: Mapping[str, Any]) -> str:
    """The version a new cluster would get: the highest offered match of the minimum version,
    else the channel's default."""
    cluster = spec.environments[env_name].cluster
    channels = {str(c.get("channel")): c for c in server_config.get("channels", [])}
    offer = channels.get(cluster.release_channel.value, {})
    wanted = cluster.min_master_version
    if wanted:
        return next((v for v in offer.get("validVersions", []) if offers(v, wanted)), wanted)
    return str(offer.get("defaultVersion") or server_config.get("defaultClusterVersion", ""))
