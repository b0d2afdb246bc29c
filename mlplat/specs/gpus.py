"""GPU types and the machine types GKE attaches them to, with the counts GKE accepts."""

from __future__ import annotations

import re

# Accelerator type → (machine type pattern, allowed counts). Counts for machine families with
# accelerators built in (G2, A2, A3) are fixed per machine size; N1 takes 1, 2, 4 (or 8).
_FIXED: dict[str, dict[str, int]] = {
    "nvidia-l4": {
        "g2-standard-4": 1,
        "g2-standard-8": 1,
        "g2-standard-12": 1,
        "g2-standard-16": 1,
        "g2-standard-32": 1,
        "g2-standard-24": 2,
        "g2-standard-48": 4,
        "g2-standard-96": 8,
    },
    "nvidia-tesla-a100": {
        "a2-highgpu-1g": 1,
        "a2-highgpu-2g": 2,
        "a2-highgpu-4g": 4,
        "a2-highgpu-8g": 8,
        "a2-megagpu-16g": 16,
    },
    "nvidia-a100-80gb": {
        "a2-ultragpu-1g": 1,
        "a2-ultragpu-2g": 2,
        "a2-ultragpu-4g": 4,
        "a2-ultragpu-8g": 8,
    },
    "nvidia-h100-80gb": {
        "a3-highgpu-1g": 1,
        "a3-highgpu-2g": 2,
        "a3-highgpu-4g": 4,
        "a3-highgpu-8g": 8,
    },
    "nvidia-h100-mega-80gb": {"a3-megagpu-8g": 8},
}
_N1: dict[str, tuple[int, ...]] = {
    "nvidia-tesla-t4": (1, 2, 4),
    "nvidia-tesla-v100": (1, 2, 4, 8),
    "nvidia-tesla-p100": (1, 2, 4),
    "nvidia-tesla-p4": (1, 2, 4),
}
_N1_MACHINE = re.compile(r"^n1-(standard|highmem|highcpu)-\d+$")

GPU_TYPES: tuple[str, ...] = tuple(sorted([*_FIXED, *_N1]))


def gpu_combination_error(machine_type: str, gpu_type: str, count: int) -> str | None:
    """Why GKE would refuse `count` × `gpu_type` on `machine_type`, or None when it accepts it."""
    if gpu_type in _FIXED:
        machines = _FIXED[gpu_type]
        if machine_type not in machines:
            return f"{gpu_type} attaches only to {', '.join(sorted(machines))}"
        if machines[machine_type] != count:
            return f"{machine_type} comes with exactly {machines[machine_type]} × {gpu_type}"
        return None
    if gpu_type in _N1:
        if not _N1_MACHINE.match(machine_type):
            return f"{gpu_type} attaches only to N1 machine types (n1-standard-*, …)"
        if count not in _N1[gpu_type]:
            allowed = ", ".join(str(c) for c in _N1[gpu_type])
            return f"{gpu_type} is offered in counts of {allowed} per node"
        return None
    return f"unknown GPU type {gpu_type!r}; known: {', '.join(GPU_TYPES)}"
