"""Compute Engine v1 basics shared by its resource modules: the project gate, links, ids,
names, and Compute's own Operation resource (status PENDING/RUNNING/DONE, `targetLink`).

Stored documents carry real links (`https://compute.googleapis.com/compute/v1/projects/…`); the
server rewrites them to the address the client used.
"""

from __future__ import annotations

import base64
import re
import secrets
from http import HTTPStatus
from typing import Any

from sandbox.api import Call
from sandbox.clock import compute_timestamp
from sandbox.effects import effect, make_effect
from sandbox.errors import RPC_CODES, ApiError, already_exists, invalid_argument, not_found
from sandbox.faults import HTTP_BY_STATUS
from sandbox.gcp.billing import require_billing
from sandbox.gcp.resourcemanager.projects import Project, find, usable
from sandbox.gcp.serviceusage.services import require_enabled
from sandbox.operations import Record
from sandbox.runtime import Runtime

API = "compute"
SERVICE = "compute.googleapis.com"
ROOT = "https://compute.googleapis.com/compute/v1/"
_NAME = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
# gcloud builds links from its endpoint override without the `compute/v1/` part.
_LINK = re.compile(r"^(?:https?://[^/]+/(?:compute/v1/)?)?(?P<path>.+)$")
_STATUS_BY_RPC = {code: name for name, code in RPC_CODES.items()}


def guard(call: Call) -> Project:
    """The project of a Compute call, after Compute's checks: it exists (404), is not being
    deleted (403), the API is enabled (403 SERVICE_DISABLED), billing works (403
    BILLING_DISABLED)."""
    ref = call.params["project"]
    if find(call.rt, ref) is None:
        raise not_found(f"The resource 'projects/{ref}' was not found")
    project = usable(call.rt, ref)
    require_enabled(call.rt, project, SERVICE)
    require_billing(call.rt, project)
    return project


def link(path: str) -> str:
    """The full link of a relative path (`projects/p/global/networks/n`)."""
    return ROOT + path


def path_of(url: str) -> str:
    """The relative path (`projects/…`) of a stored link."""
    return url.split("/compute/v1/", 1)[-1]


def relative(value: str, project: str, field_path: str) -> str:
    """`projects/p/…` from a full or partial URL (`global/networks/n` gets the project)."""
    path = _LINK.match(value)
    rel = path.group("path") if path else value
    if not rel.startswith("projects/"):
        if not rel.startswith(("global/", "regions/", "zones/")):
            raise invalid_argument(
                f"Invalid value for field '{field_path}': '{value}'. The URL is malformed.",
                field_path,
            )
        rel = f"projects/{project}/{rel}"
    return rel


def check_name(name: Any, field_path: str = "resource.name") -> str:
    """A valid RFC 1035 resource name, or 400 as Compute answers it."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise invalid_argument(
            f"Invalid value for field '{field_path}': '{name}'. Must be a match of regex "
            "'(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'",
            field_path,
        )
    return name


def check_region(region: str) -> str:
    """A plausible region name, or 400."""
    if not _REGION.match(region):
        raise invalid_argument(f"Invalid value for field 'region': '{region}'. Unknown region.")
    return region


def check_zone(zone: str) -> str:
    """A plausible zone name, or 400."""
    if not _ZONE.match(zone):
        raise invalid_argument(f"Invalid value for field 'zone': '{zone}'. Unknown zone.")
    return zone


def new_id(rt: Runtime) -> str:
    """A numeric resource id (uint64 as a string)."""
    return str(1_000_000_000_000_000_000 + rt.store.next_value("compute.ids") * 104_729)


def fingerprint() -> str:
    """A fresh fingerprint (base64 of 8 random bytes, as Compute's)."""
    return base64.b64encode(secrets.token_bytes(8)).decode()


def timestamp(rt: Runtime) -> str:
    """Compute's creationTimestamp for now."""
    return compute_timestamp(rt.now())


def visible(doc: dict[str, Any] | None) -> bool:
    """False for missing documents and those whose insert has not completed."""
    return doc is not None and not doc.get("_pending")


def missing(path: str) -> ApiError:
    """404 as Compute words it."""
    return not_found(f"The resource '{path}' was not found")


def exists(path: str) -> ApiError:
    """409 as Compute words it."""
    return already_exists(f"The resource '{path}' already exists")


def in_use(path: str, user: str) -> ApiError:
    """400 resourceInUseByAnotherResource."""
    return ApiError(
        400,
        f"The {path.split('/')[-2].removesuffix('s')} resource '{path}' is already being used "
        f"by '{user}'",
        "FAILED_PRECONDITION",
        reason="RESOURCE_IN_USE_BY_ANOTHER_RESOURCE",
        legacy_reason="resourceInUseByAnotherResource",
    )


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored resource without internal fields."""
    return {key: value for key, value in doc.items() if not key.startswith("_")}


def start_operation(
    call: Call,
    project: Project,
    *,
    scope: str,
    operation_type: str,
    target: str,
    target_id: str,
    effect: dict[str, Any],
    failure_effect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Start a Compute operation in `scope` (`global`, `regions/R`, `zones/Z`) and render it."""
    rt = call.rt
    op_name = f"operation-{int(rt.now() * 1000)}-{secrets.token_hex(6)}-{secrets.token_hex(4)}"
    path = f"projects/{project['projectId']}/{scope}/operations/{op_name}"
    record = rt.operations.start(
        api=API,
        name=path,
        method=call.method.id,
        effect=effect,
        failure_effect=failure_effect,
        info={
            "id": new_id(rt),
            "operationType": operation_type,
            "targetLink": link(target),
            "targetId": target_id,
            "scope": scope,
            "insertTime": timestamp(rt),
        },
    )
    return render_operation(record)


def render_operation(record: Record) -> dict[str, Any]:
    """A stored operation as a Compute Operation resource."""
    info = record["info"]
    done = record["done"]
    body: dict[str, Any] = {
        "kind": "compute#operation",
        "id": info["id"],
        "name": record["name"].rsplit("/", 1)[-1],
        "operationType": info["operationType"],
        "targetLink": info["targetLink"],
        "targetId": info["targetId"],
        "status": "DONE" if done else "RUNNING",
        "user": "sandbox@mlplat.local",
        "progress": 100 if done else 0,
        "insertTime": info["insertTime"],
        "startTime": info["insertTime"],
        "selfLink": link(record["name"]),
    }
    scope = info["scope"]
    if scope.startswith("regions/"):
        body["region"] = link(f"{record['name'].split('/operations/')[0]}")
    elif scope.startswith("zones/"):
        body["zone"] = link(f"{record['name'].split('/operations/')[0]}")
    if done:
        body["endTime"] = compute_timestamp(float(record.get("endedAt") or record["doneAt"]))
    error = record["error"]
    if done and error is not None:
        status = _STATUS_BY_RPC.get(int(error.get("code", 2)), "UNKNOWN")
        reason = next(
            (d.get("reason") for d in error.get("details", []) if d.get("reason")), status
        )
        body["error"] = {"errors": [{"code": reason, "message": error["message"]}]}
        code = HTTP_BY_STATUS.get(status, 500)
        body["httpErrorStatusCode"] = code
        body["httpErrorMessage"] = HTTPStatus(code).phrase.upper()  # "BAD REQUEST", as Google
    return body


def activate_effect(collection: str, key: str) -> dict[str, Any]:
    """The effect making a pending resource visible."""
    return make_effect("compute.activate", collection=collection, key=key)


def forget_effect(collection: str, key: str) -> dict[str, Any]:
    """The effect dropping a resource whose insert failed."""
    return make_effect("store.delete", collection=collection, key=key)


@effect("compute.activate")
def _activate(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(args["collection"], args["key"])
    if doc is not None:
        doc.pop("_pending", None)
        rt.store.put(args["collection"], args["key"], doc)
    return None


def merge_effect(collection: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The effect replacing top-level fields of a resource (Compute's PATCH; None removes a
    field), with a new fingerprint."""
    return make_effect("compute.merge", collection=collection, key=key, fields=fields)


@effect("compute.merge")
def _merge(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(args["collection"], args["key"])
    if doc is not None:
        for key, value in args["fields"].items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        if "fingerprint" in doc:
            doc["fingerprint"] = fingerprint()
        rt.store.put(args["collection"], args["key"], doc)
    return None


def unchanged(doc: dict[str, Any], body: dict[str, Any], mutable: set[str], what: str) -> None:
    """400 when a PATCH body changes a field that cannot change."""
    for key, value in body.items():
        if key in mutable or key == "fingerprint" or doc.get(key) == value:
            continue
        if key not in doc and value in (False, "", 0, [], {}):  # a default, as stored
            continue
        raise invalid_argument(
            f"Invalid value for field 'resource.{key}': cannot be changed on an existing {what}.",
            f"resource.{key}",
        )
