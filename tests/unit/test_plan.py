"""The planner compares only declared fields and normalizes Google's JSON."""

from __future__ import annotations

import pytest

from mlplat.errors import ReplacementRequired
from mlplat.plan import Action, FieldChange, plan

DESIRED = {
    "name": "mlp-dev",
    "releaseChannel": {"channel": "RAPID"},
    "resourceLabels": {"managed-by": "mlplat"},
    "autoscaling": {
        "enableNodeAutoprovisioning": True,
        "resourceLimits": [{"resourceType": "cpu", "minimum": "4", "maximum": "600"}],
    },
    "shieldedNodes": {"enabled": True},
    "legacyAbac": {"enabled": False},
    "location": "us-central1",
}

OBSERVED = {
    "name": "mlp-dev",
    "status": "RUNNING",
    "releaseChannel": {"channel": "RAPID"},
    "resourceLabels": {"managed-by": "mlplat", "goog-k8s-cluster": "added-by-gke"},
    "autoscaling": {
        "enableNodeAutoprovisioning": True,
        "resourceLimits": [{"resourceType": "cpu", "minimum": 4, "maximum": 600}],
        "autoscalingProfile": "BALANCED",
    },
    "shieldedNodes": {"enabled": True},
    "location": "us-central1",
    "labelFingerprint": "abc",
}


def test_missing_resource_is_a_create() -> None:
    change = plan("gke/cluster", "mlp-dev", DESIRED, None)
    assert change.action is Action.CREATE
    assert change.describe() == "gke/cluster mlp-dev: create"


def test_server_defaults_and_int64_strings_are_not_changes() -> None:
    change = plan("gke/cluster", "mlp-dev", DESIRED, OBSERVED)
    assert change.action is Action.NOOP, change.fields


def test_changed_declared_field_is_named_exactly() -> None:
    observed = {**OBSERVED, "resourceLabels": {"managed-by": "someone"}}
    change = plan("gke/cluster", "mlp-dev", DESIRED, observed)
    assert change.action is Action.UPDATE
    assert change.fields == (FieldChange("resourceLabels.managed-by", "mlplat", "someone"),)
    assert change.describe() == "gke/cluster mlp-dev: update (1 field: resourceLabels.managed-by)"
    assert change.changed("resourceLabels")


def test_list_element_change_is_found() -> None:
    observed = {
        **OBSERVED,
        "autoscaling": {
            "enableNodeAutoprovisioning": True,
            "resourceLimits": [{"resourceType": "cpu", "minimum": "4", "maximum": "300"}],
        },
    }
    change = plan("gke/cluster", "mlp-dev", DESIRED, observed)
    assert [f.path for f in change.fields] == ["autoscaling.resourceLimits"]


def test_bool_is_not_equal_to_int() -> None:
    change = plan("x", "y", {"enabled": True}, {"enabled": 1})
    assert change.action is Action.UPDATE


def test_immutable_change_raises_replacement_required() -> None:
    observed = {**OBSERVED, "location": "europe-west4"}
    with pytest.raises(ReplacementRequired, match="location: 'europe-west4' → 'us-central1'"):
        plan("gke/cluster", "mlp-dev", DESIRED, observed, immutable=["location"])
