"""Pure unit tests of the GKE Hub (Fleet) v1 model: memberships, features, feature states."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import googleapiclient
import pytest
from google.cloud import gkehub_v1
from google.cloud.gkehub_v1 import configmanagement_v1

from sandbox.gcp.container.validation import ModelError
from sandbox.gcp.gkehub import model as hub
from sandbox.gcp.gkehub.configmanagement_state import SyncReport, membership_state

NOW = "2026-01-01T00:00:00Z"
LATER = "2026-01-01T00:05:00Z"
LINK = "//container.googleapis.com/projects/ml-dev/locations/us-central1/clusters/gke-ml-dev"
NAME = "projects/123/locations/global/memberships/gke-ml-dev"
BY_ID = "projects/ml-dev/locations/global/memberships/gke-ml-dev"
CONFIG_SYNC: dict[str, Any] = {
    "configmanagement": {
        "version": "1.20.1",
        "configSync": {
            "enabled": True,
            "sourceFormat": "unstructured",
            "git": {
                "syncRepo": "https://github.com/org/config-sync-repo.git",
                "syncBranch": "dev",
                "policyDir": "manifests/clusters",
                "secretType": "token",
                "syncWaitSecs": 15,
            },
        },
        "policyController": {
            "enabled": True,
            "templateLibraryInstalled": True,
            "auditIntervalSeconds": 60,
        },
    }
}


def make_membership(**changes: Any) -> dict[str, Any]:
    body = {"endpoint": {"gkeCluster": {"resourceLink": LINK}}, "labels": {"env": "dev"}, **changes}
    return hub.new_membership("123", "gke-ml-dev", body, now=NOW, project_id="ml-dev")


def make_feature(specs: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"membershipSpecs": specs if specs is not None else {BY_ID: CONFIG_SYNC}}
    return hub.new_feature(
        "123", "configmanagement", body, now=NOW, project_id="ml-dev", memberships={NAME}
    )


def error_of(call: Any, *args: Any, **kwargs: Any) -> ModelError:
    with pytest.raises(ModelError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_new_membership_as_gke_hub_reports_it() -> None:
    m = make_membership(authority={})
    assert m["name"] == NAME and m["state"] == {"code": "CREATING"}
    assert m["endpoint"]["gkeCluster"] == {"resourceLink": LINK, "clusterMissing": False}
    assert (m["createTime"], m["updateTime"], m["labels"]) == (NOW, NOW, {"env": "dev"})
    assert re.fullmatch(r"[0-9a-f-]{36}", m["uniqueId"])
    issuer = "https://container.googleapis.com/v1/projects/ml-dev/locations/us-central1/clusters/gke-ml-dev"
    assert m["authority"] == {
        "issuer": issuer,
        "identityProvider": issuer,
        "workloadIdentityPool": "ml-dev.svc.id.goog",
    }
    assert m["monitoringConfig"] == {
        "projectId": "ml-dev",
        "location": "us-central1",
        "cluster": "gke-ml-dev",
        "kubernetesMetricsPrefix": "kubernetes.io",
    }
    ready = hub.membership_ready(m, now=LATER)
    assert ready["state"] == {"code": "READY"} and ready["updateTime"] == LATER
    assert "authority" not in make_membership()


@pytest.mark.parametrize(
    ("membership_id", "body", "code", "message"),
    [
        ("a" * 64, {}, "INVALID_ARGUMENT", "must be no more than 63 characters"),
        ("Bad_Id", {}, "INVALID_ARGUMENT", "RFC 1123"),
        ("-x", {}, "INVALID_ARGUMENT", "RFC 1123"),
        (
            "ok",
            {"endpoint": {"gkeCluster": {"resourceLink": "gke-ml-dev"}}},
            "INVALID_ARGUMENT",
            'Invalid GKE cluster resource path "gke-ml-dev"',
        ),
        (
            "ok",
            {"authority": {"issuer": "https://c/v1/projects/p/zones/z/clusters/c"}},
            "INVALID_ARGUMENT",
            "should use 'locations'",
        ),
        ("gke-ml-dev", {}, "ALREADY_EXISTS", f"Resource '{NAME}' already exists"),
        ("other", {}, "ALREADY_EXISTS", "is already registered as membership"),
        (
            "zonal",
            {"endpoint": {"gkeCluster": {"resourceLink": LINK.replace("locations", "zones")}}},
            "ALREADY_EXISTS",
            "already registered",
        ),
    ],
)
def test_membership_validation(
    membership_id: str, body: dict[str, Any], code: str, message: str
) -> None:
    full = {"endpoint": {"gkeCluster": {"resourceLink": LINK}}, **body}
    error = error_of(hub.validate_membership, "123", membership_id, full, [make_membership()])
    assert error.code == code and message in error.message, error.message


def test_valid_memberships_pass() -> None:
    body = {"endpoint": {"gkeCluster": {"resourceLink": LINK.replace("gke-ml-dev", "other")}}}
    hub.validate_membership("123", "a" * 63, body, [make_membership()])


def test_a_new_feature_normalizes_membership_keys_and_int64() -> None:
    f = make_feature()
    assert f["name"] == "projects/123/locations/global/features/configmanagement"
    assert f["resourceState"] == {"state": "ACTIVE"} and f["createTime"] == NOW
    assert list(f["membershipSpecs"]) == [NAME]
    spec = f["membershipSpecs"][NAME]["configmanagement"]
    assert spec["configSync"]["git"]["syncWaitSecs"] == "15"
    assert spec["policyController"]["auditIntervalSeconds"] == "60"
    assert make_feature({})["membershipSpecs"] == {}
    hub.validate_feature("123", "policycontroller")


@pytest.mark.parametrize(
    ("key", "memberships"),
    [
        ("projects/123/locations/global/memberships/unknown", {NAME}),
        ("projects/other-project/locations/global/memberships/gke-ml-dev", None),
        ("memberships/gke-ml-dev", None),
    ],
)
def test_specs_for_unknown_memberships_are_refused(key: str, memberships: set[str] | None) -> None:
    body = {"membershipSpecs": {key: CONFIG_SYNC}}
    error = error_of(
        hub.new_feature, "123", "configmanagement", body, now=NOW, memberships=memberships
    )
    assert error.code == "INVALID_ARGUMENT"
    assert error.message == (
        f'InvalidValueError for field membership_specs["{key}"].feature_spec: does not match a '
        "current membership in this project. Keys should be in the form: "
        "projects/123/locations/{l}/memberships/{m}"
    )


def test_feature_validation() -> None:
    assert error_of(hub.validate_feature, "123", "nope").code == "INVALID_ARGUMENT"
    error = error_of(hub.validate_feature, "123", "configmanagement", {"configmanagement"})
    assert error.code == "ALREADY_EXISTS"


def test_patch_with_a_membership_specs_mask_merges_by_key() -> None:
    other = "projects/123/locations/global/memberships/other"
    f = hub.new_feature(
        "123",
        "configmanagement",
        {"membershipSpecs": {NAME: CONFIG_SYNC, other: CONFIG_SYNC}, "labels": {"a": "1"}},
        now=NOW,
        memberships={NAME, other},
    )
    third = "projects/123/locations/global/memberships/third"  # a state without a spec stays
    states = {key: {"state": {"code": "OK"}} for key in (NAME, other, third)}
    f["membershipStates"] = states
    before = copy.deepcopy(f)
    new_spec = {"configmanagement": {"configSync": {"enabled": False}}}
    body = {"membershipSpecs": {BY_ID: new_spec}, "labels": {"b": "2"}}
    patched = hub.patch_feature(
        f, body, "membershipSpecs", now=LATER, project_id="ml-dev", memberships={NAME, other}
    )
    assert patched["membershipSpecs"] == {NAME: new_spec, other: f["membershipSpecs"][other]}
    assert patched["labels"] == {"a": "1"} and patched["updateTime"] == LATER
    assert f == before  # inputs are never mutated
    removed = hub.patch_feature(
        patched, {"membershipSpecs": {other: {}}}, ["membership_specs"], now=LATER
    )
    assert list(removed["membershipSpecs"]) == [NAME]
    assert list(removed["membershipStates"]) == [NAME, third]
    labels = hub.patch_feature(f, {"labels": {"b": "2", "a": ""}}, "labels", now=LATER)
    assert labels["labels"] == {"b": "2"}
    cleared = hub.patch_feature(f, {}, "labels,membershipSpecs", now=LATER)
    assert "labels" not in cleared and "membershipSpecs" not in cleared
    unmasked = hub.patch_feature(f, {"labels": {"c": "3"}}, None, now=LATER)
    assert unmasked["labels"] == {"a": "1", "c": "3"}
    everything = hub.patch_feature(f, {"labels": {"c": "3"}}, "*", now=LATER)
    assert everything["labels"] == {"c": "3"} and "membershipSpecs" not in everything
    assert error_of(hub.patch_feature, f, {}, "resourceState", now=LATER).code == "INVALID_ARGUMENT"
    unknown = {"membershipSpecs": {"projects/123/locations/global/memberships/x": new_spec}}
    error = error_of(
        hub.patch_feature, f, unknown, "membershipSpecs", now=LATER, memberships={NAME}
    )
    assert "does not match a current membership" in error.message


def test_membership_state_reflects_the_sync_report() -> None:
    f, m = make_feature(), hub.membership_ready(make_membership(), now=NOW)
    report: SyncReport = {"code": "SYNCED", "commit": "abc123", "lastSyncTime": LATER}
    state = membership_state(f, m, report, now=LATER)
    assert state["state"]["code"] == "OK" and state["state"]["updateTime"] == LATER
    cm = state["configmanagement"]
    assert cm["membershipSpec"] == f["membershipSpecs"][NAME]["configmanagement"]
    sync = cm["configSyncState"]["syncState"]
    assert sync["code"] == "SYNCED" and sync["sourceToken"] == "abc123" == sync["syncToken"]
    assert sync["lastSyncTime"] == LATER
    assert cm["configSyncState"]["deploymentState"]["rootReconciler"] == "INSTALLED"
    assert cm["policyControllerState"]["deploymentState"]["gatekeeperAudit"] == "INSTALLED"
    errors = [{"code": "KNV1021", "errorMessage": "unknown kind"}]
    failed = membership_state(f, m, {"code": "ERROR", "errors": errors}, now=LATER)
    assert failed["state"]["code"] == "ERROR"
    assert failed["configmanagement"]["configSyncState"]["syncState"]["errors"] == errors
    pending = membership_state(f, m, {"code": "PENDING", "installed": False}, now=LATER)
    assert pending["configmanagement"]["configSyncState"]["deploymentState"]["gitSync"] == "PENDING"
    bare = membership_state(make_feature({}), m, {"code": "SYNCED"}, now=LATER)
    assert bare["configmanagement"]["configSyncState"]["syncState"]["code"] == "NOT_CONFIGURED"


def test_everything_emitted_parses_as_the_official_types() -> None:
    """Strict proto-plus parsing: every emitted field exists in gkehub_v1 with its type."""
    m = make_membership(authority={})
    for membership in (m, hub.membership_ready(m, now=LATER)):
        gkehub_v1.Membership.from_json(json.dumps(membership), ignore_unknown_fields=False)
    f = make_feature()
    f["membershipStates"] = {
        NAME: membership_state(f, m, {"code": "SYNCED", "commit": "c"}, now=NOW)
    }
    f = hub.patch_feature(f, {"labels": {"x": "y"}}, "labels", now=LATER)
    parsed = gkehub_v1.Feature.from_json(json.dumps(f), ignore_unknown_fields=False)
    git = parsed.membership_specs[NAME].configmanagement.config_sync.git
    assert git.sync_wait_secs == 15 and git.sync_branch == "dev"
    cm = f["membershipStates"][NAME]["configmanagement"]
    configmanagement_v1.MembershipState.from_json(json.dumps(cm), ignore_unknown_fields=False)
    spec = f["membershipSpecs"][NAME]["configmanagement"]
    configmanagement_v1.MembershipSpec.from_json(json.dumps(spec), ignore_unknown_fields=False)


def test_policycontroller_specs_match_the_discovery_schema() -> None:
    """The installed gkehub_v1 proto predates `policycontroller`: check it with discovery."""
    hub_config = {
        "installSpec": "INSTALL_SPEC_ENABLED",
        "auditIntervalSeconds": 60,
        "constraintViolationLimit": 20,
        "referentialRulesEnabled": True,
        "policyContent": {"templateLibrary": {"installation": "ALL"}},
    }
    specs = {
        NAME: {"policycontroller": {"version": "1.20.1", "policyControllerHubConfig": hub_config}}
    }
    f = hub.new_feature("123", "policycontroller", {"membershipSpecs": specs}, now=NOW)
    config = f["membershipSpecs"][NAME]["policycontroller"]["policyControllerHubConfig"]
    assert (config["auditIntervalSeconds"], config["constraintViolationLimit"]) == ("60", "20")
    document = Path(googleapiclient.__file__).parent / "discovery_cache/documents/gkehub.v1.json"
    schemas = json.loads(document.read_text())["schemas"]
    check_against(schemas, {"$ref": "Feature"}, f, "feature")


def check_against(schemas: dict[str, Any], schema: dict[str, Any], value: Any, path: str) -> None:
    """Every key exists in the discovery schema, with the JSON type its format implies."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    kind, fmt = schema.get("type"), schema.get("format", "")
    if kind == "object" and "additionalProperties" in schema:
        for key, item in value.items():
            check_against(schemas, schema["additionalProperties"], item, f"{path}[{key}]")
    elif kind == "object":
        for key, item in value.items():
            assert key in schema["properties"], f"{path}.{key} is not in the schema"
            check_against(schemas, schema["properties"][key], item, f"{path}.{key}")
    elif kind == "array":
        for index, item in enumerate(value):
            check_against(schemas, schema["items"], item, f"{path}[{index}]")
    else:
        expected = {"boolean": bool, "number": float, "integer": int}.get(kind or "", str)
        assert isinstance(value, expected), f"{path}: {value!r} is not {kind}/{fmt}"
        if "enum" in schema:
            assert value in schema["enum"], f"{path}: {value} is not an enum name"
