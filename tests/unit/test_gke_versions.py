"""The spec's release channel and minimum master version against a server config (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from mlplat.specs import PlatformSpec, load_spec
from mlplat.specs.versions import planned_version, version_issues
from tests.unit.spec_files import REFERENCE

OFFER: dict[str, Any] = {
    "defaultClusterVersion": "1.33.5-gke.1080000",
    "validMasterVersions": ["1.34.1-gke.1431000", "1.33.5-gke.1080000", "1.33.4-gke.1245000"],
    "channels": [
        {
            "channel": "RAPID",
            "defaultVersion": "1.34.1-gke.1431000",
            "validVersions": ["1.34.1-gke.1431000", "1.33.5-gke.1080000"],
        },
        {
            "channel": "REGULAR",
            "defaultVersion": "1.33.5-gke.1080000",
            "validVersions": ["1.33.5-gke.1080000", "1.33.4-gke.1245000"],
        },
    ],
}


@pytest.fixture(scope="module")
def spec() -> PlatformSpec:
    return load_spec(REFERENCE)


def _with(spec: PlatformSpec, **cluster: Any) -> PlatformSpec:
    env = spec.environments["dev"]
    changed = env.model_copy(update={"cluster": env.cluster.model_copy(update=cluster)})
    copy = spec.model_copy(update={"environments": {**spec.environments, "dev": changed}})
    copy.remember_origins({})
    return copy


def test_what_is_offered_passes_and_plans_its_version(spec: PlatformSpec) -> None:
    assert version_issues(spec, "dev", OFFER, "us-central1") == []  # RAPID, no minimum
    assert planned_version(spec, "dev", OFFER) == "1.34.1-gke.1431000"
    pinned = _with(spec, min_master_version="1.33")
    assert version_issues(pinned, "dev", OFFER, "us-central1") == []
    assert planned_version(pinned, "dev", OFFER) == "1.33.5-gke.1080000"


def test_a_channel_not_offered_names_the_field(spec: PlatformSpec) -> None:
    (issue,) = version_issues(
        spec, "dev", {**OFFER, "channels": OFFER["channels"][1:]}, "us-central1"
    )
    assert issue.path == "environments.dev.cluster.release_channel"
    assert issue.file.name == "dev.yaml" and issue.line > 1
    assert issue.message == "RAPID is not offered in us-central1 (offered: REGULAR)"


def test_a_version_not_offered_on_the_channel_names_the_field(spec: PlatformSpec) -> None:
    (issue,) = version_issues(_with(spec, min_master_version="1.33.4"), "dev", OFFER, "r")
    assert issue.path == "environments.dev.cluster.min_master_version"
    assert "1.33.4 is not offered on the RAPID channel in r" in issue.message


def test_a_minimum_the_cluster_already_meets_needs_no_offer(spec: PlatformSpec) -> None:
    aged = _with(spec, min_master_version="1.32.9-gke.1130000")  # no longer offered
    assert version_issues(aged, "dev", OFFER, "r", current="1.34.1-gke.1431000") == []
    (issue,) = version_issues(aged, "dev", OFFER, "r", current="1.32.8-gke.1108000")
    assert issue.path.endswith("min_master_version")
    (issue,) = version_issues(aged, "dev", OFFER, "r")  # to be created at it
    assert issue.path.endswith("min_master_version")
