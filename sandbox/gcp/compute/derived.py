"""What other APIs make in a project's Compute Engine without a Compute call (GKE: node VMs,
their boot disks, firewall rules, control-plane peerings). Compute serves what is stored or
what another API registered here as derived: each registers a `Deriver` computing them from its
own stored state, so they follow every change there, read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.runtime import Runtime

JSON = dict[str, Any]


@dataclass(frozen=True)
class DerivedVm:
    """A VM another API runs in a project: its Instance and boot Disk resources, and what it
    uses of its region's quotas."""

    zone: str
    instance: JSON
    disk: JSON
    cpus: float
    disk_gb: float
    gpus: int
    spot: bool


@dataclass(frozen=True)
class Deriver:
    """How one API derives its Compute resources, each from (runtime, project id)."""

    vms: Callable[[Runtime, str], list[DerivedVm]]
    firewall_rules: Callable[[Runtime, str], list[JSON]]  # without kind and selfLink
    peerings: Callable[[Runtime, str, str], list[JSON]]  # of a network (its full link)


_DERIVERS: list[Deriver] = []


def register(deriver: Deriver) -> None:
    """Serve what `deriver` derives (once, however often it is registered)."""
    if deriver not in _DERIVERS:
        _DERIVERS.append(deriver)


def vms(rt: Runtime, project_id: str) -> list[DerivedVm]:
    """Every derived VM of a project."""
    return [vm for deriver in _DERIVERS for vm in deriver.vms(rt, project_id)]


def firewall_rules(rt: Runtime, project_id: str) -> list[JSON]:
    """Every derived firewall rule of a project (without kind and selfLink)."""
    return [rule for deriver in _DERIVERS for rule in deriver.firewall_rules(rt, project_id)]


def peerings(rt: Runtime, project_id: str, network: str) -> list[JSON]:
    """Every derived peering of a network (its full link)."""
    return [p for deriver in _DERIVERS for p in deriver.peerings(rt, project_id, network)]
