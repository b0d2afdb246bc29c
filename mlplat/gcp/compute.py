"""Compute Engine: networks, subnetworks, routers (with NAT) and reservations.

Through google-api-python-client and Compute's discovery document, as IAM and the fleet
features are: google-cloud-compute's generated types cost a process about 90 MB and seconds of
import for the four resources mlplat uses (measured: `flows.check_drift` imports in 249 MB with
it, 160 MB without), and its `ExtendedOperation.result()` polls an operations client built
without the caller's endpoint anyway. Bodies and answers are Google's JSON as it is on the
wire; every answer is checked against the discovery document before it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from mlplat.errors import ConflictError
from mlplat.gcp import clients
from mlplat.gcp.discovery_calls import execute
from mlplat.gcp.waiting import RETRYABLE_HTTP, OperationFailedError, poll
from mlplat.target import Target

_DOCUMENT = "compute.v1"


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
    """How one Compute resource type is reached: its collection (`networks`) and the name of
    the parameter that names one (`network`)."""

    name: str
    collection: str


NETWORK = Kind("network", "networks")
SUBNETWORK = Kind("subnetwork", "subnetworks")
ROUTER = Kind("router", "routers")
RESERVATION = Kind("reservation", "reservations")


def _collection(target: Target, kind: Kind) -> Any:
    return getattr(clients.compute(target), kind.collection)()


def _call(what: str, request: Callable[[], Any], *, missing_ok: bool = False) -> Any:
    return execute(_DOCUMENT, what, request, missing_ok=missing_ok)


def get(target: Target, kind: Kind, where: Where, name: str) -> dict[str, Any] | None:
    """The resource as Google's JSON, or None when it does not exist."""
    found: dict[str, Any] | None = _call(
        f"compute/{kind.name} {name}: get",
        lambda: _collection(target, kind).get(**where.args(), **{kind.name: name}),
        missing_ok=True,
    )
    return found


def insert(target: Target, kind: Kind, where: Where, body: dict[str, Any]) -> str:
    """Start creating the resource; returns the operation name (409 if it already exists)."""
    operation = _call(
        f"compute/{kind.name} {body['name']}: create",
        lambda: _collection(target, kind).insert(**where.args(), body=body),
    )
    return str(operation["name"])


def patch(target: Target, kind: Kind, where: Where, name: str, body: dict[str, Any]) -> str:
    """Start patching the resource with `body` (fingerprint included when the API wants one)."""
    operation = _call(
        f"compute/{kind.name} {name}: update",
        lambda: _collection(target, kind).patch(**where.args(), **{kind.name: name}, body=body),
    )
    return str(operation["name"])


def update(
    target: Target, kind: Kind, where: Where, name: str, body: dict[str, Any], *, mask: list[str]
) -> str:
    """Start updating the fields `mask` names (dotted) with `body`; returns the operation."""
    operation = _call(
        f"compute/{kind.name} {name}: update",
        lambda: _collection(target, kind).update(
            **where.args(), **{kind.name: name}, body=body, updateMask=",".join(mask)
        ),
    )
    return str(operation["name"])


def list_(target: Target, kind: Kind, where: Where) -> list[dict[str, Any]]:
    """Every resource of the kind in `where`, as Google's JSON (every page)."""
    method = _collection(target, kind).list
    what = f"compute/{kind.name}s of {where.project}: list"
    return [item for page in _pages(what, method, where.args()) for item in page.get("items") or []]


def in_flight(target: Target, where: Where, target_name: str) -> str | None:
    """The name of an unfinished operation on a resource called `target_name`, if any: a
    resumed run waits on it instead of creating twice."""
    operations = _operations(target, where)
    what = f"compute operations in {where.project}: list"
    args = dict(where.args(), filter="status != DONE")
    listed = (op for page in _pages(what, operations.list, args) for op in page.get("items") or [])
    for operation in listed:
        link = str(operation.get("targetLink", ""))
        if link.rsplit("/", 1)[-1] == target_name and operation.get("status") != "DONE":
            return str(operation["name"])
    return None


def wait(target: Target, where: Where, operation: str, *, what: str, deadline: float) -> None:
    """Wait for a Compute operation; a failed one raises PermanentError with its errors."""
    operations = _operations(target, where)

    def fetch() -> dict[str, Any]:
        found: dict[str, Any] = _call(
            what, lambda: operations.get(operation=operation, **where.args())
        )
        return found

    done = poll(what, fetch, lambda op: op.get("status") == "DONE", deadline=deadline)
    errors = (done.get("error") or {}).get("errors") or []
    if errors:
        messages = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors)
        raise OperationFailedError(
            f"{what}: operation failed: {messages}",
            retryable=done.get("httpErrorStatusCode") in RETRYABLE_HTTP,
        )


def _operations(target: Target, where: Where) -> Any:
    compute = clients.compute(target)
    if where.zone:
        return compute.zoneOperations()
    if where.region:
        return compute.regionOperations()
    return compute.globalOperations()


def _pages(what: str, method: Callable[..., Any], args: dict[str, Any]) -> Iterator[Any]:
    """Every page a list method answers for `args`, following nextPageToken."""
    token: str | None = None
    while True:
        page = _call(what, partial(method, **(dict(args, pageToken=token) if token else args)))
        yield page
        token = page.get("nextPageToken")
        if not token:
            return


def is_conflict(exc: BaseException) -> bool:
    """Whether an error came from a 409 (the resource exists or is being created)."""
    return isinstance(exc, ConflictError)


def delete(target: Target, kind: Kind, where: Where, name: str) -> str | None:
    """Start deleting the resource; returns the operation name, None when it is gone."""
    operation = _call(
        f"compute/{kind.name} {name}: delete",
        lambda: _collection(target, kind).delete(**where.args(), **{kind.name: name}),
        missing_ok=True,
    )
    return None if operation is None else str(operation["name"])


def subnetworks_of(target: Target, project: str) -> list[tuple[str, dict[str, Any]]]:
    """Every subnetwork of the project in every region, as (region, Google's JSON), from one
    aggregated list."""
    method = clients.compute(target).subnetworks().aggregatedList
    what = f"compute/subnetworks of {project}: list"
    return [
        (scope.rsplit("/", 1)[-1], subnet)
        for page in _pages(what, method, {"project": project})
        for scope, scoped in sorted((page.get("items") or {}).items())
        for subnet in scoped.get("subnetworks") or []
    ]
