"""The planner compares only declared fields and normalizes Google's JSON: a table of
(desired, observed, immutable) → the Change planned, or the replacement refused."""

from __future__ import annotations

from typing import Any

import pytest

from mlplat.errors import ReplacementRequired
from mlplat.plan import Action, Change, FieldChange, plan

LIMITS_600 = [{"resourceType": "cpu", "minimum": "4", "maximum": "600"}]
DESIRED = {
    "name": "mlp-dev",
    "releaseChannel": {"channel": "RAPID"},
    "resourceLabels": {"managed-by": "mlplat"},
    "autoscaling": {
        "enableNodeAutoprovisioning": True,
        "resourceLimits": LIMITS_600,
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
LIMITS_300 = [{"resourceType": "cpu", "minimum": "4", "maximum": "300"}]
SELF_LINK = "https://www.googleapis.com/compute/v1/projects/p/global/networks/ml-vpc"


def _observed(**changes: Any) -> dict[str, Any]:
    return {**OBSERVED, **changes}


# (id, desired, observed, immutable, expected action, expected changed fields)
CASES: list[tuple[str, Any, Any, tuple[str, ...], Action, tuple[FieldChange, ...]]] = [
    ("missing-is-create", DESIRED, None, (), Action.CREATE, ()),
    ("server-defaults-and-int64-strings", DESIRED, OBSERVED, (), Action.NOOP, ()),
    (
        "changed-label-named-exactly",
        DESIRED,
        _observed(resourceLabels={"managed-by": "someone"}),
        (),
        Action.UPDATE,
        (FieldChange("resourceLabels.managed-by", "mlplat", "someone"),),
    ),
    (
        "list-element-change",
        DESIRED,
        _observed(autoscaling={"enableNodeAutoprovisioning": True, "resourceLimits": LIMITS_300}),
        (),
        Action.UPDATE,
        (FieldChange("autoscaling.resourceLimits", LIMITS_600, LIMITS_300),),
    ),
    (
        "list-length-change",
        {"tags": ["a", "b"]},
        {"tags": ["a"]},
        (),
        Action.UPDATE,
        (FieldChange("tags", ["a", "b"], ["a"]),),
    ),
    (
        "list-of-maps-compares-declared-keys-only",
        {"ranges": [{"name": "pods"}]},
        {"ranges": [{"name": "pods", "cidr": "10.4.0.0/14"}]},
        (),
        Action.NOOP,
        (),
    ),
    (
        "bool-is-not-int",
        {"enabled": True},
        {"enabled": 1},
        (),
        Action.UPDATE,
        (FieldChange("enabled", True, 1),),
    ),
    (
        "absent-means-the-default",
        {"a": False, "b": 0, "c": "", "d": [], "e": {}, "f": {"g": False}},
        {},
        (),
        Action.NOOP,
        (),
    ),
    (
        "absent-non-default-is-a-change",
        {"shieldedNodes": {"enabled": True}},
        {},
        (),
        Action.UPDATE,
        (FieldChange("shieldedNodes.enabled", True, None),),
    ),
    (
        "self-link-is-its-relative-name",
        {"network": "projects/p/global/networks/ml-vpc"},
        {"network": SELF_LINK},
        (),
        Action.NOOP,
        (),
    ),
    ("float-and-its-string", {"ratio": 0.5}, {"ratio": "0.5"}, (), Action.NOOP, ()),
    (
        "observed-scalar-where-a-map-is-declared",
        {"config": {"a": "x"}},
        {"config": "x"},
        (),
        Action.UPDATE,
        (FieldChange("config.a", "x", None),),
    ),
    (
        "immutable-unchanged-other-field-updates",
        DESIRED,
        _observed(resourceLabels={"managed-by": "someone"}),
        ("location",),
        Action.UPDATE,
        (FieldChange("resourceLabels.managed-by", "mlplat", "someone"),),
    ),
    (
        "immutable-unchanged-is-noop",
        DESIRED,
        OBSERVED,
        ("location", "autoscaling"),
        Action.NOOP,
        (),
    ),
]


@pytest.mark.parametrize(
    ("desired", "observed", "immutable", "action", "fields"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_plan(
    desired: dict[str, Any],
    observed: dict[str, Any] | None,
    immutable: tuple[str, ...],
    action: Action,
    fields: tuple[FieldChange, ...],
) -> None:
    change = plan("gke/cluster", "mlp-dev", desired, observed, immutable=immutable)
    assert (change.action, change.fields) == (action, fields)


# (id, desired, observed, immutable, the refusal's details)
REFUSED: list[tuple[str, Any, Any, tuple[str, ...], str]] = [
    (
        "immutable-field",
        DESIRED,
        _observed(location="europe-west4"),
        ("location",),
        "location: 'europe-west4' → 'us-central1'",
    ),
    (
        "field-under-an-immutable-prefix",
        DESIRED,
        _observed(autoscaling={"enableNodeAutoprovisioning": True, "resourceLimits": LIMITS_300}),
        ("autoscaling",),
        "autoscaling.resourceLimits: ",
    ),
    (
        "immutable-field-gone",
        {"config": {"diskType": "pd-ssd"}},
        {"config": {}},
        ("config.diskType",),
        "config.diskType: (unset) → 'pd-ssd'",
    ),
]


@pytest.mark.parametrize(
    ("desired", "observed", "immutable", "details"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_immutable_change_raises_replacement_required(
    desired: dict[str, Any], observed: dict[str, Any], immutable: tuple[str, ...], details: str
) -> None:
    with pytest.raises(ReplacementRequired) as refused:
        plan("gke/cluster", "mlp-dev", desired, observed, immutable=immutable)
    assert details in str(refused.value)
    assert "mlplat never deletes to re-create" in str(refused.value)


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (Change("gke/cluster", "mlp-dev", Action.CREATE), "gke/cluster mlp-dev: create"),
        (Change("gke/cluster", "mlp-dev", Action.NOOP), "gke/cluster mlp-dev: noop"),
        (
            Change("gke/cluster", "mlp-dev", Action.UPDATE, (FieldChange("a.b", 1, 2),)),
            "gke/cluster mlp-dev: update (1 field: a.b)",
        ),
        (
            Change(
                "gke/node-pool",
                "gpu",
                Action.UPDATE,
                (FieldChange("x", 1, 2), FieldChange("y", 1, 2)),
            ),
            "gke/node-pool gpu: update (2 fields: x, y)",
        ),
    ],
    ids=["create", "noop", "update-one-field", "update-two-fields"],
)
def test_describe(change: Change, line: str) -> None:
    assert change.describe() == line


@pytest.mark.parametrize(
    ("prefix", "changed"),
    [
        ("resourceLabels", True),
        ("resourceLabels.managed-by", True),
        ("resource", False),
        ("location", False),
    ],
)
def test_changed_is_at_or_under_a_dotted_prefix(prefix: str, changed: bool) -> None:
    change = plan("gke/cluster", "mlp-dev", DESIRED, _observed(resourceLabels={"managed-by": "x"}))
    assert change.changed(prefix) is changed
