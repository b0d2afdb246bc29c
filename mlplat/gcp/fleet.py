"""GKE Hub: fleet memberships and the `configmanagement` feature with per-membership specs.

Hub's long-running operations are followed through the resources themselves (membership
CREATING → READY, feature ENABLING → ACTIVE), which also lets a resumed run wait on work a
crashed run started."""

from __future__ import annotations

import re
from typing import Any

from google.cloud import gkehub_v1
from google.protobuf import field_mask_pb2

from mlplat.gcp import clients
from mlplat.gcp.convert import from_dict, to_dict
from mlplat.gcp.errors import get_or_none, guarded
from mlplat.gcp.waiting import RETRYABLE_CODES, OperationFailedError, poll
from mlplat.target import Target


def _snake(path: str) -> str:
    """Field masks name proto fields (membership_specs), not their JSON names."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", path).lower()


def global_location(project: str) -> str:
    return f"projects/{project}/locations/global"


def get_membership(target: Target, project: str, membership: str) -> dict[str, Any] | None:
    found = get_or_none(
        f"fleet/membership {membership}: get",
        lambda: clients.gkehub(target).get_membership(
            name=f"{global_location(project)}/memberships/{membership}"
        ),
    )
    return None if found is None else to_dict(found)


def create_membership(target: Target, project: str, membership: str, body: dict[str, Any]) -> Any:
    """Start registering the cluster; returns the operation (`wait`), then follow it with
    `get_membership` until READY."""
    message = from_dict(gkehub_v1.Membership, body)
    return guarded(
        f"fleet/membership {membership}: create",
        lambda: clients.gkehub(target).create_membership(
            parent=global_location(project), membership_id=membership, resource=message
        ),
    )


def update_membership_labels(
    target: Target, project: str, membership: str, labels: dict[str, str]
) -> None:
    message = gkehub_v1.Membership(labels=labels)
    guarded(
        f"fleet/membership {membership}: update labels",
        lambda: clients.gkehub(target).update_membership(
            name=f"{global_location(project)}/memberships/{membership}",
            resource=message,
            update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
        ),
    )


def get_feature(target: Target, project: str, feature: str) -> dict[str, Any] | None:
    found = get_or_none(
        f"fleet/feature {feature}: get",
        lambda: clients.gkehub(target).get_feature(
            name=f"{global_location(project)}/features/{feature}"
        ),
    )
    return None if found is None else to_dict(found)


def create_feature(target: Target, project: str, feature: str, body: dict[str, Any]) -> Any:
    """Start enabling the feature; returns the operation (`wait`)."""
    message = from_dict(gkehub_v1.Feature, body)
    return guarded(
        f"fleet/feature {feature}: create",
        lambda: clients.gkehub(target).create_feature(
            parent=global_location(project), feature_id=feature, resource=message
        ),
    )


def update_feature(
    target: Target, project: str, feature: str, body: dict[str, Any], mask: list[str]
) -> Any:
    """Patch the feature; with mask `membershipSpecs` only the memberships in `body` change.
    Returns the operation (follow it with `wait`): a failed patch changes nothing."""
    message = from_dict(gkehub_v1.Feature, body)
    return guarded(
        f"fleet/feature {feature}: update {', '.join(mask)}",
        lambda: clients.gkehub(target).update_feature(
            name=f"{global_location(project)}/features/{feature}",
            resource=message,
            update_mask=field_mask_pb2.FieldMask(paths=[_snake(path) for path in mask]),
        ),
    )


def wait(operation: Any, *, what: str, deadline: float) -> None:
    """Wait for a Hub operation (the future a call returned); a failed one raises
    OperationFailedError."""
    poll(what, lambda: guarded(what, operation.done), bool, deadline=deadline)
    done = operation.operation  # the google.longrunning.Operation, now done
    if done.HasField("error"):
        raise OperationFailedError(
            f"{what}: operation failed: {done.error.message}",
            retryable=done.error.code in RETRYABLE_CODES,
        )


def delete_membership(target: Target, project: str, membership: str) -> bool:
    """Start unregistering the cluster (follow with `get_membership` until gone); False when
    it is gone already."""
    started = get_or_none(
        f"fleet/membership {membership}: delete",
        lambda: clients.gkehub(target).delete_membership(
            name=f"{global_location(project)}/memberships/{membership}"
        ),
    )
    return started is not None


def delete_feature(target: Target, project: str, feature: str) -> bool:
    """Start deleting the feature (follow with `get_feature`); False when it is gone."""
    started = get_or_none(
        f"fleet/feature {feature}: delete",
        lambda: clients.gkehub(target).delete_feature(
            name=f"{global_location(project)}/features/{feature}"
        ),
    )
    return started is not None
