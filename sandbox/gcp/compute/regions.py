"""Compute Engine regions and zones: get and list (regions with their quotas, usage counting
the VMs other APIs run, GKE's node VMs)."""

from __future__ import annotations

from typing import Any

from sandbox.api import Call, Handlers
from sandbox.gcp.compute import derived
from sandbox.gcp.compute.collection import Collection
from sandbox.gcp.compute.common import link
from sandbox.gcp.compute.geography import REGIONS, ZONES

HANDLERS = Handlers("compute.v1")
_CREATED = "1969-12-31T16:00:00.000-08:00"  # Google's creationTimestamp for regions and zones
# Region quotas shown by `gcloud compute regions list` (limits of a fresh project).
_QUOTA_LIMITS = (
    ("CPUS", 2400.0),
    ("DISKS_TOTAL_GB", 102400.0),
    ("STATIC_ADDRESSES", 8.0),
    ("IN_USE_ADDRESSES", 575.0),
    ("SSD_TOTAL_GB", 81920.0),
    ("INSTANCES", 6000.0),
    ("NVIDIA_L4_GPUS", 16.0),
    ("PREEMPTIBLE_NVIDIA_L4_GPUS", 16.0),
)


def _number(name: str, base: int) -> str:
    return str(base + sum(ord(c) * 31**i for i, c in enumerate(name)) % 9_000)


def region_view(pid: str, region: str, usage: dict[str, float] | None = None) -> dict[str, Any]:
    """A Region resource of project `pid`; `usage` maps quota metrics to their use."""
    used = usage or {}
    return {
        "kind": "compute#region",
        "id": _number(region, 1000),
        "creationTimestamp": _CREATED,
        "name": region,
        "description": region,
        "status": "UP",
        "zones": [link(f"projects/{pid}/zones/{zone}") for zone in REGIONS[region]],
        "quotas": [
            {"metric": metric, "limit": limit, "usage": float(used.get(metric, 0.0))}
            for metric, limit in _QUOTA_LIMITS
        ],
        "selfLink": link(f"projects/{pid}/regions/{region}"),
        "supportsPzs": False,
    }


def zone_view(pid: str, zone: str) -> dict[str, Any]:
    """A Zone resource of project `pid`."""
    return {
        "kind": "compute#zone",
        "id": _number(zone, 2000),
        "creationTimestamp": _CREATED,
        "name": zone,
        "description": zone,
        "status": "UP",
        "region": link(f"projects/{pid}/regions/{ZONES[zone]}"),
        "selfLink": link(f"projects/{pid}/zones/{zone}"),
        "availableCpuPlatforms": [
            "Intel Cascade Lake",
            "Intel Ice Lake",
            "Intel Sapphire Rapids",
            "AMD Milan",
            "AMD Genoa",
        ],
        "supportsPzs": False,
    }


def _region_usage(call: Call, pid: str) -> dict[str, dict[str, float]]:
    usage: dict[str, dict[str, float]] = {}
    for vm in derived.vms(call.rt, pid):
        used = usage.setdefault(ZONES.get(vm.zone, ""), {})
        used["CPUS"] = used.get("CPUS", 0.0) + vm.cpus
        used["INSTANCES"] = used.get("INSTANCES", 0.0) + 1
        used["DISKS_TOTAL_GB"] = used.get("DISKS_TOTAL_GB", 0.0) + vm.disk_gb
        if vm.gpus:
            metric = ("PREEMPTIBLE_" if vm.spot else "") + "NVIDIA_L4_GPUS"
            used[metric] = used.get(metric, 0.0) + vm.gpus
    return usage


def _regions(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    usage = _region_usage(call, pid)
    return [("", region_view(pid, region, usage.get(region))) for region in REGIONS]


def _zones(call: Call, pid: str) -> list[tuple[str, dict[str, Any]]]:
    return [("", zone_view(pid, zone)) for zone in ZONES]


Collection("regions", "region", "project", source=_regions).serve_reads(HANDLERS)
Collection("zones", "zone", "project", source=_zones).serve_reads(HANDLERS)
