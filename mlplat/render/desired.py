"""The desired state of one resource, as rendered from the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MANAGED_BY_LABEL = "managed-by"
MANAGED_BY_VALUE = "mlplat"
# On objects that reach clusters through Git: Config Sync sets app.kubernetes.io/managed-by to
# itself (configmanagement.gke.io), so mlplat marks them as part of the platform instead.
PART_OF_LABEL = "app.kubernetes.io/part-of"
PLATFORM_LABEL = "mlplat-platform"
ENVIRONMENT_LABEL = "mlplat-environment"


@dataclass(frozen=True)
class Desired:
    """A resource we manage: its kind, name and the fields we declare (which of them cannot
    change, and which call changes the others, its kind's descriptor says: `mlplat.kinds`).

    `body` holds only declared fields (camelCase, enum names, as Google's JSON has them) and is
    what the planner compares; `create_extra` adds fields sent only on creation.
    """

    kind: str
    name: str
    body: Mapping[str, Any]
    create_extra: Mapping[str, Any] = field(default_factory=dict)

    def create_body(self) -> dict[str, Any]:
        """The body of the create call: the declared fields plus create-only ones."""
        return {**self.body, **self.create_extra}


def ownership_labels(platform_name: str, env_name: str | None = None) -> dict[str, str]:
    """Labels that mark a resource as ours; nothing without them is ever taken over."""
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, PLATFORM_LABEL: platform_name}
    if env_name is not None:
        labels[ENVIRONMENT_LABEL] = env_name
    return labels


def is_ours(labels: Mapping[str, str] | None, platform_name: str) -> bool:
    """Whether labels carry our ownership mark for this platform."""
    labels = labels or {}
    return (
        labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
        and labels.get(PLATFORM_LABEL) == platform_name
    )
