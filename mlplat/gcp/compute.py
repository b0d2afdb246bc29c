"""Compute Engine collections (networks, subnetworks, routers with NAT, reservations, and any
other whose client follows the same verbs): get, list, insert, patch, update, delete.

google-cloud-compute's `ExtendedOperation.result()` polls an operations client built without
the caller's endpoint, so mlplat waits on Compute operations with the operations clients itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.cloud import compute_v1

from mlplat.errors import ConflictError
from mlplat.gcp import clients
from mlplat.gcp.convert import from_dict, to_dict
from mlplat.gcp.errors import get_or_none, guarded
from mlplat.gcp.waiting import RETRYABLE_HTTP, OperationFailedError, poll
from mlplat.target import Target


@dataclass(frozen=True)
class Where:
    """Where a Compute resource lives: a project, and globally, in a region, or in a zone."""

    project: str
    region: str = ""
    zone: str = ""

    def args(self) -> dict[str, str]:
        """Keyword arguments of the client calls that address this place."""
        if self.zone:
            return {"project": self.project, "zone": self.zone}
        if self.region:
            return {"project": self.project, "region": self.region}
        return {"project": self.project}


@dataclass(frozen=True)
class Kind:
    """How one Compute resource type is reached through its client."""

    name: str
    resource_arg: str
    message: type[Any]
    client: type[Any]


NETWORK = Kind("network", "network_resource", compute_v1.Network, compute_v1.NetworksClient)
SUBNETWORK = Kind(
    "subnetwork", "subnetwork_resource", compute_v1.Subnetwork, compute_v1.SubnetworksClient
)
ROUTER = Kind("router", "router_resource", compute_v1.Router, compute_v1.RoutersClient)
RESERVATION = Kind(
    "reservation", "reservation_resource", compute_v1.Reservation, compute_v1.ReservationsClient
)


def _client(target: Target, kind: Kind) -> Any:
    return clients.compute(target, kind.client)


def _key(kind: Kind) -> str:
    return kind.name  # the name argument: network=, subnetwork=, router=, reservation=


def get(target: Target, kind: Kind, where: Where, name: str) -> dict[str, Any] | None:
    """The resource as Google's JSON, or None when it does not exist."""
    what = f"compute/{kind.name} {name}: get"
    found = get_or_none(
        what,
        lambda: _client(target, kind).get(**where.args(), **{_key(kind): name}),
    )
    return None if found is None else to_dict(found)


def insert(target: Target, kind: Kind, where: Where, body: dict[str, Any]) -> str:
    """Start creating the resource; returns the operation name (409 if it already exists)."""
    resource = from_dict(kind.message, body)
    operation = guarded(
        f"compute/{kind.name} {body['name']}: create",
        lambda: _client(target, kind).insert(**where.args(), **{kind.resource_arg: resource}),
    )
    return str(operation.name)


def patch(target: Target, kind: Kind, where: Where, name: str, body: dict[str, Any]) -> str:
    """Start patching the resource with `body` (fingerprint included when the API wants one)."""
    resource = from_dict(kind.message, body)
    operation = guarded(
        f"compute/{kind.name} {name}: update",
        lambda: _client(target, kind).patch(
            **where.args(), **{_key(kind): name, kind.resource_arg: resource}
        ),
    )
    return str(operation.name)


def update(
    target: Target, kind: Kind, where: Where, name: str, body: dict[str, Any], *, mask: list[str]
) -> str:
    """Start updating the fields `mask` names (dotted) with `body`; returns the operation."""
    resource = from_dict(kind.message, body)
    operation = guarded(
        f"compute/{kind.name} {name}: update",
        lambda: _client(target, kind).update(
            **where.args(),
            **{_key(kind): name, kind.resource_arg: resource},
            update_mask=",".join(mask),
        ),
    )
    return str(operation.name)


def list_(target: Target, kind: Kind, where: Where) -> list[dict[str, Any]]:
    """Every resource of the kind in `where`, as Google's JSON (one paged list)."""
    return guarded(
        f"compute/{kind.name}s of {where.project}: list",
        lambda: [to_dict(found) for found in _client(target, kind).list(**where.args())],
    )


def in_flight(target: Target, where: Where, target_name: str) -> str | None:
    """The name of an unfinished operation on a resource called `target_name`, if any: a
    resumed run waits on it instead of creating twice."""
    client = _operations(target, where)
    listed = guarded(
        f"compute operations in {where.project}: list",
        lambda: list(client.list(request={**where.args(), "filter": "status != DONE"})),
    )
    for operation in listed:
        if operation.target_link.rsplit("/", 1)[-1] == target_name and operation.status != (
            compute_v1.Operation.Status.DONE
        ):
            return str(operation.name)
    return None


def wait(target: Target, where: Where, operation: str, *, what: str, deadline: float) -> None:
    """Wait for a Compute operation; a failed one raises PermanentError with its errors."""
    client = _operations(target, where)

    def fetch() -> Any:
        return guarded(what, lambda: client.get(operation=operation, **where.args()))

    done = poll(
        what, fetch, lambda op: op.status == compute_v1.Operation.Status.DONE, deadline=deadline
    )
    if done.error and done.error.errors:
        messages = "; ".join(f"{e.code}: {e.message}" for e in done.error.errors)
        raise OperationFailedError(
            f"{what}: operation failed: {messages}",
            retryable=done.http_error_status_code in RETRYABLE_HTTP,
        )


def _operations(target: Target, where: Where) -> Any:
    if where.zone:
        return clients.zone_operations(target)
    if where.region:
        return clients.region_operations(target)
    return clients.global_operations(target)


def is_conflict(exc: BaseException) -> bool:
    """Whether an error came from a 409 (the resource exists or is being created)."""
    return isinstance(exc, ConflictError)


def delete(target: Target, kind: Kind, where: Where, name: str) -> str | None:
    """Start deleting the resource; returns the operation name, None when it is gone."""
    operation = get_or_none(
        f"compute/{kind.name} {name}: delete",
        lambda: _client(target, kind).delete(**where.args(), **{_key(kind): name}),
    )
    return None if operation is None else str(operation.name)


def subnetworks_of(target: Target, project: str) -> list[tuple[str, dict[str, Any]]]:
    """Every subnetwork of the project in every region, as (region, Google's JSON), from one
    aggregated list."""
    client = clients.compute(target, compute_v1.SubnetworksClient)
    pages = guarded(
        f"compute/subnetworks of {project}: list",
        lambda: list(client.aggregated_list(request={"project": project})),
    )
    return [
        (scope.rsplit("/", 1)[-1], to_dict(subnet))
        for scope, scoped in pages
        for subnet in scoped.subnetworks
    ]
