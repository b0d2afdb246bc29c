"""GKE Hub (Fleet) v1 domain rules: memberships and features (states: configmanagement_state).

Pure functions over camelCase JSON dicts (enums as names, int64 as strings). Resource names
always use the project *number*; membershipSpecs keys given with the project ID are rewritten
to the number, as the API documents ("{p} will always be returned as the project number").
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sandbox.gcp.container.naming import JSON
from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.gkehub.spec_checks import check_membership_spec
from sandbox.gcp.names import digest

MEMBERSHIP_ID = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
RESOURCE_LINK = re.compile(
    r"//container\.googleapis\.com/projects/([^/]+)/(?:locations|zones)/([^/]+)/clusters/([^/]+)"
)
MEMBERSHIP_KEY = re.compile(r"projects/([^/]+)/locations/([^/]+)/memberships/([^/]+)")
FEATURES = frozenset(
    {
        "appdevexperience",
        "clusterupgrade",
        "configmanagement",
        "dataplanev2",
        "fleetobservability",
        "identityservice",
        "multiclusteringress",
        "multiclusterservicediscovery",
        "policycontroller",
        "rbacrolebindingactuation",
        "servicemesh",
        "workloadidentity",
    }
)
_MUTABLE = ("labels", "spec", "membershipSpecs", "scopeSpecs", "fleetDefaultMemberConfig")
_MAPS = ("labels", "membershipSpecs", "scopeSpecs")
_INT64_SPEC_PATHS = (
    ("configmanagement", "configSync", "git", "syncWaitSecs"),
    ("configmanagement", "configSync", "oci", "syncWaitSecs"),
    ("configmanagement", "policyController", "auditIntervalSeconds"),
    ("policycontroller", "policyControllerHubConfig", "auditIntervalSeconds"),
    ("policycontroller", "policyControllerHubConfig", "constraintViolationLimit"),
)


def membership_name(project_number: str, membership_id: str, location: str = "global") -> str:
    """`projects/<number>/locations/<location>/memberships/<id>`."""
    return f"projects/{project_number}/locations/{location}/memberships/{membership_id}"


def validate_membership(
    project_number: str,
    membership_id: str,
    body: Mapping[str, Any],
    existing: Iterable[Mapping[str, Any]] = (),
) -> None:
    """Refuse a memberships.create as GKE Hub does; `existing` are the stored memberships."""
    if len(membership_id) > 63:
        raise ModelError(
            "INVALID_ARGUMENT",
            "InvalidValueError for field membership_id: must be no more than 63 characters",
        )
    if not MEMBERSHIP_ID.fullmatch(membership_id):
        raise ModelError(
            "INVALID_ARGUMENT",
            "InvalidValueError for field membership_id: must be a valid RFC 1123 DNS label "
            "matching [a-z0-9]([-a-z0-9]*[a-z0-9])?",
        )
    link = body.get("endpoint", {}).get("gkeCluster", {}).get("resourceLink", "")
    cluster = _cluster_of(link)
    issuer = body.get("authority", {}).get("issuer", "")
    if issuer and (not issuer.startswith("https://") or "/zones/" in issuer):
        raise ModelError(
            "INVALID_ARGUMENT",
            "InvalidValueError for field authority.issuer: issuer for Gke Cluster should use "
            "'locations'",
        )
    for other in existing:
        if other["name"].rsplit("/", 1)[-1] == membership_id:
            raise ModelError("ALREADY_EXISTS", f"Resource '{other['name']}' already exists")
        other_link = other.get("endpoint", {}).get("gkeCluster", {}).get("resourceLink", "")
        if RESOURCE_LINK.fullmatch(other_link) and _cluster_of(other_link) == cluster:
            raise ModelError(
                "ALREADY_EXISTS",
                f"Cluster {link} is already registered as membership {other['name']}",
            )


def new_membership(
    project_number: str,
    membership_id: str,
    body: Mapping[str, Any],
    *,
    now: str,
    location: str = "global",
    project_id: str | None = None,
    cluster_uid: str | None = None,
) -> JSON:
    """The Membership GKE Hub stores for a memberships.create, state CREATING.

    With an `authority`, its issuer defaults to the cluster's OIDC issuer and the workload
    identity pool is `<project_id>.svc.id.goog`. `cluster_uid` (the GKE cluster `id`) becomes
    monitoringConfig.clusterHash.
    """
    membership = copy.deepcopy(dict(body))
    name = membership_name(project_number, membership_id, location)
    gke = membership.setdefault("endpoint", {}).setdefault("gkeCluster", {})
    project, cluster_location, cluster = _cluster_of(gke.get("resourceLink", ""))
    gke["clusterMissing"] = False
    membership.update(
        name=name,
        state={"code": "CREATING"},
        createTime=now,
        updateTime=now,
        uniqueId=str(uuid.UUID(digest(name, now)[:32])),
    )
    # Hub gives a GKE cluster's membership an external ID when the request has none
    membership.setdefault("externalId", str(uuid.UUID(digest(name, now, "external")[:32])))
    if "authority" in membership:
        path = f"projects/{project}/locations/{cluster_location}/clusters/{cluster}"
        authority = membership["authority"]
        authority.setdefault("issuer", f"https://container.googleapis.com/v1/{path}")
        authority["identityProvider"] = authority["issuer"]
        authority["workloadIdentityPool"] = f"{project_id or project}.svc.id.goog"
    monitoring = {
        "projectId": project_id or project,
        "location": cluster_location,
        "cluster": cluster,
        "kubernetesMetricsPrefix": "kubernetes.io",
    }
    if cluster_uid:
        monitoring["clusterHash"] = cluster_uid
    membership["monitoringConfig"] = {**monitoring, **membership.get("monitoringConfig", {})}
    return membership


def membership_ready(membership: Mapping[str, Any], *, now: str) -> JSON:
    """The membership once its create operation is done: state READY."""
    return {**copy.deepcopy(dict(membership)), "state": {"code": "READY"}, "updateTime": now}


def normalize_membership_key(key: str, project_number: str, project_id: str | None = None) -> str:
    """A membershipSpecs key in the project-number form; refuses keys of another project."""
    found = MEMBERSHIP_KEY.fullmatch(key)
    if found is None or found.group(1) not in (project_number, project_id):
        raise ModelError("INVALID_ARGUMENT", _bad_key(key, project_number))
    return membership_name(project_number, found.group(3), found.group(2))


def validate_feature(project_number: str, feature_id: str, existing: Collection[str] = ()) -> None:
    """Refuse a features.create for an unknown or already enabled feature."""
    if feature_id not in FEATURES:
        raise ModelError(
            "INVALID_ARGUMENT", f'Feature "{feature_id}" is not a known Fleet feature.'
        )
    name = f"projects/{project_number}/locations/global/features/{feature_id}"
    if feature_id in existing or name in existing:
        raise ModelError("ALREADY_EXISTS", f"Resource '{name}' already exists")


def new_feature(
    project_number: str,
    feature_id: str,
    body: Mapping[str, Any],
    *,
    now: str,
    project_id: str | None = None,
    memberships: Collection[str] | None = None,
) -> JSON:
    """The Feature GKE Hub stores for a features.create (resourceState ACTIVE).

    `memberships` are the names of the project's memberships: specs for others are refused.
    """
    feature = {k: copy.deepcopy(v) for k, v in body.items() if k in _MUTABLE}
    if "membershipSpecs" in feature:
        feature["membershipSpecs"] = _normalize_specs(
            feature["membershipSpecs"], project_number, project_id, memberships
        )
    feature.update(
        name=f"projects/{project_number}/locations/global/features/{feature_id}",
        resourceState={"state": "ACTIVE"},
        createTime=now,
        updateTime=now,
    )
    return feature


def patch_feature(
    feature: Mapping[str, Any],
    body: Mapping[str, Any],
    update_mask: str | Iterable[str] | None,
    *,
    now: str,
    project_id: str | None = None,
    memberships: Collection[str] | None = None,
) -> JSON:
    """features.patch: only masked fields change; map fields merge key by key.

    A masked field absent from `body` is cleared; in a masked map, a key set to null, `{}` or
    `""` is deleted and keys not mentioned are kept. `*` replaces every mutable field. With no
    mask, the mutable fields present in `body` are the mask.
    """
    number = feature["name"].split("/")[1]
    paths = _mask_paths(update_mask, body)
    result = copy.deepcopy(dict(feature))
    incoming = dict(body)
    if "membershipSpecs" in incoming and incoming["membershipSpecs"] is not None:
        specs = {
            normalize_membership_key(k, number, project_id): v
            for k, v in incoming["membershipSpecs"].items()
        }
        live = {k: v for k, v in specs.items() if v}
        _normalize_specs(live, number, project_id, memberships)
        incoming["membershipSpecs"] = {k: _int64_strings(v) if v else v for k, v in specs.items()}
    for path in paths:
        if path == "*":
            for field in _MUTABLE:
                _replace(result, field, incoming)
        elif path in _MAPS and incoming.get(path) is not None:
            merged = {**result.get(path, {}), **copy.deepcopy(incoming[path])}
            result[path] = {k: v for k, v in merged.items() if v not in (None, {}, "")}
        elif path in _MUTABLE:
            _replace(result, path, incoming)
        else:
            raise ModelError("INVALID_ARGUMENT", f'Invalid update mask path "{path}".')
        if not result.get(path, True):
            result.pop(path)
    removed = set(feature.get("membershipSpecs", {})) - set(result.get("membershipSpecs", {}))
    for key in removed & set(result.get("membershipStates", {})):
        del result["membershipStates"][key]  # a removed spec takes its state with it
    result["updateTime"] = now
    return result


def _cluster_of(link: str) -> tuple[str, str, str]:
    found = RESOURCE_LINK.fullmatch(link)
    if found is None:
        raise ModelError(
            "INVALID_ARGUMENT",
            "InvalidValueError for field endpoint.gke_cluster.resource_link: failed to validate "
            f'gke resource path "{link}": Invalid GKE cluster resource path "{link}": '
            f'INVALID_ARGUMENT: "{link}" is not a valid path',
        )
    return found.group(1), found.group(2), found.group(3)


def _bad_key(key: str, project_number: str) -> str:
    return (
        f'InvalidValueError for field membership_specs["{key}"].feature_spec: does not match a '
        "current membership in this project. Keys should be in the form: "
        f"projects/{project_number}/locations/{{l}}/memberships/{{m}}"
    )


def _normalize_specs(
    specs: Mapping[str, Any],
    project_number: str,
    project_id: str | None,
    memberships: Collection[str] | None,
) -> JSON:
    result: JSON = {}
    for key, spec in specs.items():
        name = normalize_membership_key(key, project_number, project_id)
        if memberships is not None and name not in memberships:
            raise ModelError("INVALID_ARGUMENT", _bad_key(key, project_number))
        check_membership_spec(spec)
        result[name] = _int64_strings(spec)
    return result


def _int64_strings(spec: Mapping[str, Any]) -> JSON:
    result = copy.deepcopy(dict(spec))
    for path in _INT64_SPEC_PATHS:
        node: Any = result
        for part in path[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            node[path[-1]] = str(node[path[-1]])
    return result


def _mask_paths(update_mask: str | Iterable[str] | None, body: Mapping[str, Any]) -> list[str]:
    if update_mask is None or update_mask == "":
        return [field for field in _MUTABLE if field in body]
    raw = update_mask.split(",") if isinstance(update_mask, str) else list(update_mask)
    return [re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p.strip()) for p in raw if p.strip()]


def _replace(result: JSON, field: str, incoming: Mapping[str, Any]) -> None:
    if incoming.get(field) is None:
        result.pop(field, None)
    else:
        result[field] = copy.deepcopy(incoming[field])
