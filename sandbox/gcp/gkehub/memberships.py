"""GKE Hub (Fleet) memberships: create (CREATING → READY), get, list (`locations/-` = all),
patch (labels, authority, externalId) and delete, on v1 and v1beta.

A membership registers a GKE cluster of the sandbox (`endpoint.gkeCluster.resourceLink`), which
must exist; one membership per cluster.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox import latency
from sandbox.api import Call
from sandbox.clock import rfc3339
from sandbox.effects import effect, make_effect
from sandbox.errors import invalid_argument
from sandbox.gcp.container.cluster_store import find_cluster
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.gkehub.model import (
    RESOURCE_LINK,
    membership_ready,
    new_membership,
    validate_membership,
)
from sandbox.gcp.gkehub.operations import (
    EMPTY,
    api_error,
    finished,
    guard,
    hub_handlers,
    missing,
    query_id,
    route,
    start,
)
from sandbox.gcp.gkehub.sync_reports import SYNC_REPORTS
from sandbox.listing import page
from sandbox.runtime import Runtime

PAIR = hub_handlers()
HANDLERS, HANDLERS_BETA = PAIR
MEMBERSHIPS = "gkehub.memberships"  # key: "<project number>/<location>/<id>"
_M = "gkehub.projects.locations.memberships."
_MUTABLE = ("labels", "authority", "externalId")

latency.declare(
    {
        _M + "create": (30.0, 90.0),
        _M + "patch": (10.0, 30.0),
    }
)


def memberships_of(rt: Runtime, number: str, location: str = "-") -> list[dict[str, Any]]:
    """Stored memberships of a project (one location, or all with `-`)."""
    prefix = f"{number}/" if location == "-" else f"{number}/{location}/"
    return rt.store.values(MEMBERSHIPS, prefix)


def view(rt: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    """A stored membership as Hub returns it: `clusterMissing` once its cluster is gone."""
    body = copy.deepcopy(doc)
    gke = body.get("endpoint", {}).get("gkeCluster")
    if gke is not None:
        found = RESOURCE_LINK.fullmatch(gke.get("resourceLink", ""))
        gke["clusterMissing"] = found is None or find_cluster(rt, *found.groups()) is None
    return body


def _key(name: str) -> str:
    parts = name.split("/")
    return f"{parts[1]}/{parts[3]}/{parts[5]}"


def _existing(call: Call) -> tuple[str, str, dict[str, Any]]:
    """(number, key, membership) addressed by the call's `name`, or 404."""
    name = call.params["name"]
    _, number, location = guard(call, name)
    key = f"{number}/{location}/{name.split('/')[5]}"
    doc = call.rt.store.get(MEMBERSHIPS, key)
    if doc is None:
        raise missing(f"projects/{number}/locations/{location}/memberships/{name.split('/')[5]}")
    return number, key, doc


@route(PAIR, _M + "create")
def create(call: Call) -> dict[str, Any]:
    rt = call.rt
    project, number, location = guard(call, call.params["parent"])
    if location == "-":
        raise invalid_argument("A membership needs a location, not '-'.", "parent")
    membership_id = query_id(call, "membershipId", "membership_id")
    body = call.body
    with rt.store.transaction():
        try:
            validate_membership(number, membership_id, body, memberships_of(rt, number))
        except ModelError as exc:
            raise api_error(exc) from None
        link = body.get("endpoint", {}).get("gkeCluster", {}).get("resourceLink", "")
        found = RESOURCE_LINK.fullmatch(link)
        cluster = find_cluster(rt, *found.groups()) if found else None
        if cluster is None:
            raise invalid_argument(
                "InvalidValueError for field endpoint.gke_cluster.resource_link: GKE cluster "
                f'"{link}" was not found.',
                "membership.endpoint.gke_cluster.resource_link",
            )
        doc = new_membership(
            number,
            membership_id,
            body,
            now=rfc3339(rt.now()),
            location=location,
            project_id=str(project["projectId"]),
            cluster_uid=str(cluster.get("id", "")),
        )
        key = _key(doc["name"])
        rt.store.put(MEMBERSHIPS, key, doc)
        return start(
            call,
            number=number,
            location=location,
            verb="create",
            target=doc["name"],
            effect=make_effect("gkehub.membership.ready", key=key),
            failure_effect=make_effect("store.delete", collection=MEMBERSHIPS, key=key),
            response="Membership",
        )


@effect("gkehub.membership.ready")
def _ready(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(MEMBERSHIPS, args["key"])
    if doc is None:
        return None
    doc = membership_ready(doc, now=rfc3339(rt.now()))
    rt.store.put(MEMBERSHIPS, args["key"], doc)
    return view(rt, doc)


@route(PAIR, _M + "get")
def get(call: Call) -> dict[str, Any]:
    return view(call.rt, _existing(call)[2])


@route(PAIR, _M + "list")
def list_(call: Call) -> dict[str, Any]:
    _, number, location = guard(call, call.params["parent"])
    found = [view(call.rt, doc) for doc in memberships_of(call.rt, number, location)]
    items, token = page(call.query, found, default_size=1000)
    body: dict[str, Any] = {"resources": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


@route(PAIR, _M + "patch")
def patch(call: Call) -> dict[str, Any]:
    number, key, doc = _existing(call)
    mask = str(call.arg("updateMask", "") or "")
    paths = [p.strip() for p in mask.split(",") if p.strip()]
    if not paths:
        raise invalid_argument("Required field 'update_mask' is missing.", "update_mask")
    fields: dict[str, Any] = {}
    for path in paths:
        if path not in _MUTABLE:
            raise invalid_argument(f'Invalid update mask path "{path}".', "update_mask")
        fields[path] = copy.deepcopy(call.body.get(path))
    return start(
        call,
        number=number,
        location=key.split("/")[1],
        verb="update",
        target=doc["name"],
        effect=make_effect("gkehub.membership.patch", key=key, fields=fields),
        response="Membership",
    )


@effect("gkehub.membership.patch")
def _patch(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(MEMBERSHIPS, args["key"])
    if doc is None:
        return None
    for field, value in args["fields"].items():
        if value in (None, {}, ""):
            doc.pop(field, None)
        elif field == "authority":
            doc["authority"] = {**doc.get("authority", {}), **value}
        else:
            doc[field] = value
    doc["updateTime"] = rfc3339(rt.now())
    rt.store.put(MEMBERSHIPS, args["key"], doc)
    return view(rt, doc)


@route(PAIR, _M + "delete")
def delete(call: Call) -> dict[str, Any]:
    number, key, doc = _existing(call)
    rt = call.rt
    with rt.store.transaction():
        doc["state"] = {"code": "DELETING"}
        rt.store.put(MEMBERSHIPS, key, doc)
        answer = start(
            call,
            number=number,
            location=key.split("/")[1],
            verb="delete",
            target=doc["name"],
            effect=make_effect("gkehub.membership.delete", key=key),
            failure_effect=make_effect("gkehub.membership.ready", key=key),
            response=EMPTY,
            immediate=True,
        )
    return finished(call, answer)


@effect("gkehub.membership.delete")
def _delete(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(MEMBERSHIPS, args["key"])
    if doc is not None:
        rt.store.delete(MEMBERSHIPS, args["key"])
        rt.store.delete(SYNC_REPORTS, doc["name"])
    return None
