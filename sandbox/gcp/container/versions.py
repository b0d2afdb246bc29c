"""The GKE versions the sandbox offers: one table behind cluster versions and getServerConfig.

Made up but shaped like Google's: each release channel offers a few versions, the default is
one of them, and neighbouring channels share versions (a version moves Rapid → Regular →
Stable → Extended). Versions are listed highest first, as `ServerConfig` lists them.
"""

from __future__ import annotations

from typing import Any

# version → the channels offering it (highest version first)
RELEASES: dict[str, tuple[str, ...]] = {
    "1.34.1-gke.1431000": ("RAPID",),
    "1.34.0-gke.1709000": ("RAPID",),
    "1.33.5-gke.1080000": ("RAPID", "REGULAR"),
    "1.33.4-gke.1245000": ("REGULAR",),
    "1.32.9-gke.1130000": ("REGULAR", "STABLE"),
    "1.32.8-gke.1108000": ("STABLE",),
    "1.31.13-gke.1023000": ("STABLE", "EXTENDED"),
    "1.30.14-gke.1150000": ("EXTENDED",),
}
CHANNEL_DEFAULTS: dict[str, str] = {
    "RAPID": "1.34.1-gke.1431000",
    "REGULAR": "1.33.5-gke.1080000",
    "STABLE": "1.32.9-gke.1130000",
    "EXTENDED": "1.31.13-gke.1023000",
}
# Nodes may lag their control plane by two minor versions: older node versions stay valid.
OLDER_NODE_VERSIONS = ("1.29.15-gke.1291000", "1.28.15-gke.2169000")
IMAGE_TYPES = ("COS_CONTAINERD", "UBUNTU_CONTAINERD", "WINDOWS_LTSC_CONTAINERD")
DEFAULT_CHANNEL = "REGULAR"


def channel_versions(channel: str) -> list[str]:
    """The versions a release channel offers, highest first."""
    return [version for version, channels in RELEASES.items() if channel in channels]


def server_config() -> dict[str, Any]:
    """`projects.locations.getServerConfig`'s answer (the same in every location)."""
    masters = list(RELEASES)
    return {
        "defaultClusterVersion": CHANNEL_DEFAULTS[DEFAULT_CHANNEL],
        "validNodeVersions": [*masters, *OLDER_NODE_VERSIONS],
        "defaultImageType": IMAGE_TYPES[0],
        "validImageTypes": list(IMAGE_TYPES),
        "validMasterVersions": masters,
        "channels": [
            {
                "channel": channel,
                "defaultVersion": default,
                "validVersions": channel_versions(channel),
                "upgradeTargetVersion": channel_versions(channel)[0],
            }
            for channel, default in CHANNEL_DEFAULTS.items()
        ],
    }
