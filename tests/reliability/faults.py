"""Injected faults, shared by the fault soak (tests/reliability/test_fault_soak.py) and the
reliability benchmark (bench/reliability.py): which operations fail, the fault configuration of
one run (the sandbox's `PUT /faults`), and the provisioning call they use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.provision_environment import provision_environment
from flows.provision_platform import provision_platform
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE

# Operations that end in error once per run (a real cloud's INTERNAL / UNAVAILABLE failures).
FAILING_OPERATIONS = (
    "cloudresourcemanager.projects.create",
    "serviceusage.services.batchEnable",
    "container.projects.locations.clusters.create",
    "container.projects.locations.clusters.nodePools.create",
    "compute.networks.insert",
    "compute.subnetworks.insert",
    "compute.routers.insert",
    "compute.reservations.insert",
    "gkehub.projects.locations.memberships.create",
    "gkehub.projects.locations.features.create",
    "gkehub.projects.locations.features.patch",
)


@dataclass(frozen=True)
class Soak:
    """One provisioning run under faults on a fresh sandbox."""

    seed: int
    rate: float  # the chance that any one request fails
    envs: tuple[str, ...] = ("dev",)

    def __str__(self) -> str:
        return f"seed{self.seed}-{int(self.rate * 100)}pct-{'+'.join(self.envs)}"


def faults(soak: Soak, codes: tuple[int, ...] = (429, 500, 503)) -> dict[str, Any]:
    """Each of `codes` on every method (429 with Retry-After), each at the rate that makes
    `rate` overall, and one failed operation per operation-creating method."""
    each = 1 - (1 - soak.rate) ** (1 / len(codes))
    retry_after = 0.05 + (soak.seed % 4) * 0.05
    return {
        "seed": soak.seed,
        "rules": [
            *(
                {"method": "*", "rate": each, "code": code}
                | ({"retryAfter": retry_after} if code == 429 else {})
                for code in codes
            ),
            *(
                {
                    "method": method,
                    "times": 1,
                    "operation": {"status": "INTERNAL", "message": f"injected: {method} failed"},
                }
                for method in FAILING_OPERATIONS
            ),
        ],
    }


def provision(sandbox: Sandbox, envs: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The environments' results, by provision_environment (one) or provision_platform."""
    spec_dir, endpoints = str(REFERENCE), str(sandbox.endpoints_path)
    if len(envs) == 1:
        one = provision_environment(envs[0], spec_dir=spec_dir, endpoints=endpoints, approved=True)
        return {envs[0]: one}
    result = provision_platform(
        envs=list(envs), spec_dir=spec_dir, endpoints=endpoints, approved=True
    )
    environments: dict[str, dict[str, Any]] = result["environments"]
    return environments
