"""Resource Manager, Cloud Billing and Service Usage: a project, its billing link, its APIs."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import billing_v1, resourcemanager_v3, service_usage_v1
from google.longrunning import operations_pb2
from google.protobuf import field_mask_pb2

from mlplat.errors import OwnershipError
from mlplat.gcp import clients
from mlplat.gcp.convert import from_dict, to_dict
from mlplat.gcp.errors import answers_of, guarded, translate
from mlplat.gcp.waiting import RETRYABLE_CODES, OperationFailedError, poll
from mlplat.retry import call
from mlplat.target import Target

BATCH_LIMIT = 20  # services per batchEnable


def get(target: Target, project_id: str) -> dict[str, Any] | None:
    """The project, or None when it does not exist or is not visible to us (Google answers
    403 for both, so that project IDs of others do not leak)."""

    def once() -> dict[str, Any] | None:
        with answers_of(f"project {project_id}: get"):
            try:
                return to_dict(clients.projects(target).get_project(name=f"projects/{project_id}"))
            except (gexc.NotFound, gexc.PermissionDenied, gexc.Forbidden):
                return None
            except gexc.GoogleAPICallError as exc:
                raise translate(exc, f"project {project_id}: get") from exc

    return call(once)


_NUMBERS: dict[tuple[Target, str], str] = {}
_NUMBERS_LOCK = threading.Lock()


def number(target: Target, project_id: str) -> str | None:
    """The project's number, or None when the project is absent. A project's number never
    changes (nor is its ID ever reused), so it is asked once per process."""
    key = (target, project_id)
    with _NUMBERS_LOCK:
        known = _NUMBERS.get(key)
    if known is not None:
        return known
    project = get(target, project_id)
    if project is None:
        return None
    found = str(project["name"]).split("/", 1)[1]
    with _NUMBERS_LOCK:
        _NUMBERS[key] = found
    return found


def create(target: Target, body: dict[str, Any]) -> str:
    """Start creating a project; returns the operation name. A taken ID is an OwnershipError."""
    project_id = str(body["projectId"])
    project = from_dict(resourcemanager_v3.Project, body)

    def once() -> str:
        with answers_of(f"project {project_id}: create"):
            try:
                operation = clients.projects(target).create_project(project=project)
            except gexc.Conflict as exc:
                raise OwnershipError(
                    f"project {project_id}: the ID is taken (by another owner, or reserved after "
                    "a deletion) and not visible as ours; choose another project_id or "
                    "project_suffix"
                ) from exc
            except gexc.GoogleAPICallError as exc:
                raise translate(exc, f"project {project_id}: create") from exc
        return str(operation.operation.name)

    return call(once)


def update(target: Target, project_id: str, fields: dict[str, Any]) -> str:
    """Replace the project's top-level `fields` (labels, displayName); returns the operation."""
    project = from_dict(resourcemanager_v3.Project, {"name": f"projects/{project_id}", **fields})
    mask = field_mask_pb2.FieldMask(paths=[_snake(name) for name in fields])
    operation = guarded(
        f"project {project_id}: update {', '.join(fields)}",
        lambda: clients.projects(target).update_project(project=project, update_mask=mask),
    )
    return str(operation.operation.name)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def wait_operation(target: Target, api: str, name: str, what: str, deadline: float) -> None:
    """Wait for a Resource Manager (`api="projects"`) or Service Usage operation to finish."""
    client: Any = clients.projects(target) if api == "projects" else clients.service_usage(target)

    def fetch() -> operations_pb2.Operation:
        return guarded(what, lambda: client.get_operation(request={"name": name}))

    operation = poll(what, fetch, lambda op: bool(op.done), deadline=deadline)
    if operation.HasField("error"):
        raise OperationFailedError(
            f"{what}: operation failed: {operation.error.message}",
            retryable=operation.error.code in RETRYABLE_CODES,
        )


def billing_account(target: Target, project_id: str) -> str:
    """The billing account linked to the project ('' when none)."""
    info = guarded(
        f"project {project_id}: get billing",
        lambda: clients.billing(target).get_project_billing_info(name=f"projects/{project_id}"),
    )
    return str(info.billing_account_name)


def link_billing(target: Target, project_id: str, account_name: str) -> None:
    """Link the project to `billingAccounts/…`."""
    info = billing_v1.ProjectBillingInfo(billing_account_name=account_name)
    guarded(
        f"project {project_id}: link billing",
        lambda: clients.billing(target).update_project_billing_info(
            name=f"projects/{project_id}", project_billing_info=info
        ),
    )


def enabled_services(target: Target, project_id: str) -> set[str]:
    """Names of the services enabled in the project (one paged list call)."""
    request = service_usage_v1.ListServicesRequest(
        parent=f"projects/{project_id}", filter="state:ENABLED", page_size=200
    )

    def once() -> set[str]:
        pager = clients.service_usage(target).list_services(request=request)
        return {service.config.name or service.name.rsplit("/", 1)[-1] for service in pager}

    return guarded(f"project {project_id}: list services", once)


def enable_services(target: Target, project_id: str, services: Iterable[str]) -> list[str]:
    """Start enabling services in batches; returns the operation names."""
    names = sorted(services)
    operations = []
    for start in range(0, len(names), BATCH_LIMIT):
        batch = names[start : start + BATCH_LIMIT]
        request = {"parent": f"projects/{project_id}", "service_ids": batch}
        operation = guarded(
            f"project {project_id}: enable {len(batch)} services",
            lambda request=request: clients.service_usage(target).batch_enable_services(  # type: ignore[misc]
                request=request
            ),
        )
        operations.append(str(operation.operation.name))
    return operations


def delete(target: Target, project_id: str) -> str:
    """Request the project's deletion (it becomes DELETE_REQUESTED; its ID stays reserved);
    returns the operation name."""
    operation = guarded(
        f"project {project_id}: delete",
        lambda: clients.projects(target).delete_project(name=f"projects/{project_id}"),
    )
    return str(operation.operation.name)
