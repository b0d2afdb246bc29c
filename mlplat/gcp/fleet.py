"""GKE Hub: fleet memberships, and the features (`configmanagement`, `policycontroller`) with
their per-membership specs.

Hub's long-running operations are followed through the resources themselves (membership
CREATING → READY, feature ENABLING → ACTIVE), which also lets a resumed run wait on work a
crashed run started."""

from __future__ import annotations

from typing import Any

from google.cloud import gkehub_v1
from google.protobuf import field_mask_pb2

from mlplat.gcp import clients, discovery_calls
from mlplat.gcp.convert import from_dict, to_dict
from mlplat.gcp.errors import get_or_none, guarded
from mlplat.gcp.waiting import RETRYABLE_CODES, OperationFailedError, poll
from mlplat.retry import DEFAULT_POLICY, ONCE
from mlplat.target import Target

DOCUMENT = "gkehub.v1"


def global_location(project: str) -> str:
    return f"projects/{project}/locations/global"


def get_membership(
    target: Target, project: str, membership: str, *, once: bool = False
) -> dict[str, Any] | None:
    """The membership, or None; `once`: a single try, whose failure (e.g. the Hub API not
    enabled yet, which is otherwise waited out) is the answer."""
    found = get_or_none(
        f"fleet/membership {membership}: get",
        lambda: clients.gkehub(target).get_membership(
            name=f"{global_location(project)}/memberships/{membership}"
        ),
        policy=ONCE if once else DEFAULT_POLICY,
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


def _features(target: Target) -> Any:
    return clients.discovery_client(target, "gkehub", "v1").projects().locations().features()


def _feature_name(project: str, feature: str) -> str:
    return f"{global_location(project)}/features/{feature}"


def get_feature(target: Target, project: str, feature: str) -> dict[str, Any] | None:
    """The feature as Hub's JSON, None when not enabled. Features go through the discovery
    client: google-cloud-gke-hub's v1 messages (1.26.0, the newest) have no `policycontroller`
    spec or state, and its REST transport drops fields it does not know."""
    found: dict[str, Any] | None = discovery_calls.execute(
        DOCUMENT,
        f"fleet/feature {feature}: get",
        lambda: _features(target).get(name=_feature_name(project, feature)),
        missing_ok=True,
    )
    return found


def create_feature(target: Target, project: str, feature: str, body: dict[str, Any]) -> Any:
    """Start enabling the feature; returns the operation (`wait`)."""
    return discovery_calls.execute(
        DOCUMENT,
        f"fleet/feature {feature}: create",
        lambda: _features(target).create(
            parent=global_location(project), featureId=feature, body=body
        ),
    )


def update_feature(
    target: Target, project: str, feature: str, body: dict[str, Any], mask: list[str]
) -> Any:
    """Patch the feature; with mask `membershipSpecs` only the memberships in `body` change.
    Returns the operation (follow it with `wait`): a failed patch changes nothing."""
    return discovery_calls.execute(
        DOCUMENT,
        f"fleet/feature {feature}: update {', '.join(mask)}",
        lambda: _features(target).patch(
            name=_feature_name(project, feature), updateMask=",".join(mask), body=body
        ),
    )


def wait_feature(target: Target, operation: Any, *, what: str, deadline: float) -> None:
    """Wait for a feature's operation (the JSON a feature call returned); a failed one raises
    OperationFailedError."""
    operations = clients.discovery_client(target, "gkehub", "v1").projects().locations()
    done: dict[str, Any] = poll(
        what,
        lambda: discovery_calls.execute(
            DOCUMENT, what, lambda: operations.operations().get(name=operation["name"])
        ),
        lambda op: bool(op.get("done")),
        deadline=deadline,
    )
    _raise_failed(what, done.get("error"))


def wait(operation: Any, *, what: str, deadline: float) -> None:
    """Wait for a membership operation (the future the client returned); a failed one raises
    OperationFailedError."""
    poll(what, lambda: guarded(what, operation.done), bool, deadline=deadline)
    done = operation.operation  # the google.longrunning.Operation, now done
    if done.HasField("error"):
        _raise_failed(what, {"code": done.error.code, "message": done.error.message})


def _raise_failed(what: str, error: dict[str, Any] | None) -> None:
    if error:
        raise OperationFailedError(
            f"{what}: operation failed: {error.get('message', '')}",
            retryable=int(error.get("code", 0)) in RETRYABLE_CODES,
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
    started = discovery_calls.execute(
        DOCUMENT,
        f"fleet/feature {feature}: delete",
        lambda: _features(target).delete(name=_feature_name(project, feature)),
        missing_ok=True,
    )
    return started is not None
