"""GKE Hub (Fleet) features: create (`?featureId=`), get, list, patch (`updateMask`, map fields
merged key by key) and delete, on v1 and v1beta.

The `configmanagement` feature reports a state per membership with a spec: what Config Sync last
reported for that cluster (`sync_reports`), rendered by `configmanagement_state.membership_state`.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox import latency
from sandbox.api import Call
from sandbox.clock import rfc3339
from sandbox.effects import effect, make_effect
from sandbox.errors import ApiError, failed_precondition, invalid_argument
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.gkehub.configmanagement_state import membership_state
from sandbox.gcp.gkehub.memberships import MEMBERSHIPS, memberships_of
from sandbox.gcp.gkehub.model import new_feature, patch_feature, validate_feature
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
from sandbox.gcp.gkehub.policycontroller_state import membership_state as policy_state
from sandbox.gcp.gkehub.policycontroller_state import policy_report
from sandbox.gcp.gkehub.sync_reports import sync_report
from sandbox.gcp.serviceusage.services import is_enabled
from sandbox.listing import page
from sandbox.runtime import Runtime

PAIR = hub_handlers()
HANDLERS, HANDLERS_BETA = PAIR
FEATURES = "gkehub.features"  # key: "<project number>/<feature id>"
FEATURE_SERVICES = {
    "configmanagement": "anthosconfigmanagement.googleapis.com",
    "policycontroller": "anthospolicycontroller.googleapis.com",
}
_M = "gkehub.projects.locations.features."

latency.declare(
    {
        _M + "create": (15.0, 45.0),
        _M + "patch": (15.0, 45.0),
    }
)


def view(rt: Runtime, doc: dict[str, Any]) -> dict[str, Any]:
    """A stored feature as Hub returns it, with membershipStates for configmanagement and
    policycontroller."""
    body = copy.deepcopy(doc)
    feature = doc["name"].rsplit("/", 1)[-1]
    if feature not in ("configmanagement", "policycontroller"):
        return body
    states: dict[str, Any] = {}
    for name, spec in doc.get("membershipSpecs", {}).items():
        parts = name.split("/")
        membership = rt.store.get(MEMBERSHIPS, f"{parts[1]}/{parts[3]}/{parts[5]}")
        if membership is None or membership.get("state", {}).get("code") != "READY":
            continue
        if feature == "policycontroller":
            found, at = policy_report(rt, name)
            states[name] = policy_state(spec, found, now=at or doc["updateTime"])
            continue
        report, reported_at = sync_report(rt, name)
        states[name] = membership_state(
            doc, membership, report, now=reported_at or doc["updateTime"]
        )
    if states:
        body["membershipStates"] = states
    return body


def _names(rt: Runtime, number: str) -> set[str]:
    return {m["name"] for m in memberships_of(rt, number)}


def _global(location: str) -> None:
    if location != "global":
        raise invalid_argument(f'Features live in location "global", not "{location}".', "parent")


def _existing(call: Call) -> tuple[dict[str, Any], str, dict[str, Any]]:
    name = call.params["name"]
    project, number, location = guard(call, name)
    _global(location)
    key = f"{number}/{name.split('/')[5]}"
    doc = call.rt.store.get(FEATURES, key)
    if doc is None:
        raise missing(f"projects/{number}/locations/global/features/{name.split('/')[5]}")
    return project, key, doc


@route(PAIR, _M + "create")
def create(call: Call) -> dict[str, Any]:
    rt = call.rt
    project, number, location = guard(call, call.params["parent"])
    _global(location)
    feature_id = query_id(call, "featureId", "feature_id")
    service = FEATURE_SERVICES.get(feature_id)
    if service is not None and not is_enabled(rt, project, service):
        # Hub names the API a feature needs (magic-modules#9739: "policycontroller feature
        # requires enablement of anthos.googleapis.com", the API it needed then).
        raise failed_precondition(f"{feature_id} feature requires enablement of {service}")
    with rt.store.transaction():
        taken = [key.split("/")[1] for key, _ in rt.store.items(FEATURES, f"{number}/")]
        try:
            validate_feature(number, feature_id, taken)
            doc = new_feature(
                number,
                feature_id,
                call.body,
                now=rfc3339(rt.now()),
                project_id=str(project["projectId"]),
                memberships=_names(rt, number),
            )
        except ModelError as exc:
            raise api_error(exc) from None
        doc["resourceState"] = {"state": "ENABLING"}
        key = f"{number}/{feature_id}"
        rt.store.put(FEATURES, key, doc)
        return start(
            call,
            number=number,
            location="global",
            verb="create",
            target=doc["name"],
            effect=make_effect("gkehub.feature.state", key=key, state="ACTIVE"),
            failure_effect=make_effect("store.delete", collection=FEATURES, key=key),
            response="Feature",
        )


@effect("gkehub.feature.state")
def _state(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(FEATURES, args["key"])
    if doc is None:
        return None
    doc["resourceState"] = {"state": args["state"]}
    doc["updateTime"] = rfc3339(rt.now())
    rt.store.put(FEATURES, args["key"], doc)
    return view(rt, doc)


@route(PAIR, _M + "get")
def get(call: Call) -> dict[str, Any]:
    return view(call.rt, _existing(call)[2])


@route(PAIR, _M + "list")
def list_(call: Call) -> dict[str, Any]:
    _, number, location = guard(call, call.params["parent"])
    if location != "-":
        _global(location)
    found = [view(call.rt, doc) for doc in call.rt.store.values(FEATURES, f"{number}/")]
    items, token = page(call.query, found, default_size=1000)
    body: dict[str, Any] = {"resources": items} if items else {}
    if token:
        body["nextPageToken"] = token
    return body


def _patched(rt: Runtime, doc: dict[str, Any], body: dict[str, Any], mask: str, pid: str) -> Any:
    number = doc["name"].split("/")[1]
    try:
        return patch_feature(
            doc,
            body,
            mask,
            now=rfc3339(rt.now()),
            project_id=pid,
            memberships=_names(rt, number),
        )
    except ModelError as exc:
        raise api_error(exc) from None


@route(PAIR, _M + "patch")
def patch(call: Call) -> dict[str, Any]:
    rt = call.rt
    project, key, doc = _existing(call)
    mask = str(call.arg("updateMask", "") or "")
    project_id = str(project["projectId"])
    _patched(rt, doc, call.body, mask, project_id)  # refuse now what the operation would
    return start(
        call,
        number=key.split("/")[0],
        location="global",
        verb="update",
        target=doc["name"],
        effect=make_effect(
            "gkehub.feature.patch", key=key, body=call.body, mask=mask, projectId=project_id
        ),
        response="Feature",
    )


@effect("gkehub.feature.patch")
def _patch(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    doc = rt.store.get(FEATURES, args["key"])
    if doc is None:
        raise ApiError(404, "The feature was deleted meanwhile.", "NOT_FOUND")
    updated = _patched(rt, doc, args["body"], args["mask"], args["projectId"])
    updated.pop("membershipStates", None)
    rt.store.put(FEATURES, args["key"], updated)
    return view(rt, updated)


@route(PAIR, _M + "delete")
def delete(call: Call) -> dict[str, Any]:
    rt = call.rt
    _, key, doc = _existing(call)
    with rt.store.transaction():
        doc["resourceState"] = {"state": "DISABLING"}
        rt.store.put(FEATURES, key, doc)
        answer = start(
            call,
            number=key.split("/")[0],
            location="global",
            verb="delete",
            target=doc["name"],
            effect=make_effect("store.delete", collection=FEATURES, key=key),
            failure_effect=make_effect("gkehub.feature.state", key=key, state="ACTIVE"),
            response=EMPTY,
            immediate=True,
        )
    return finished(call, answer)
