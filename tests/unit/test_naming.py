"""Derived names follow the owning API's rules and limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplat.errors import SpecError
from mlplat.specs import load_spec, naming
from tests.unit.spec_files import REFERENCE, copy_reference


@pytest.fixture(scope="module")
def spec():  # type: ignore[no-untyped-def]
    return load_spec(REFERENCE)


def test_reference_names(spec) -> None:  # type: ignore[no-untyped-def]
    platform, dev = spec.platform, spec.environments["dev"]
    assert naming.project_id(platform, dev) == "mlp-dev-a1b2"
    assert naming.cluster_name(platform, dev) == "mlp-dev"
    assert naming.membership_id(platform, dev) == "mlp-dev"
    assert naming.network_name(platform, dev) == "mlp-dev-vpc"
    assert naming.zones(platform, dev) == ("us-central1-a", "us-central1-b", "us-central1-c")
    assert naming.config_sync_branch(dev) == "dev"
    pool = dev.node_pools[0]
    assert naming.reservation_name(platform, dev, pool) == "mlp-dev-gpu-l4-reserved"


@pytest.mark.parametrize(
    ("namespace", "reposync", "expected"),
    [
        ("ml-team", "repo-sync", "ns-reconciler-ml-team"),
        ("ml-team", "dev-ml-team", "ns-reconciler-ml-team-dev-ml-team-11"),
        ("vision", "prod-vision", "ns-reconciler-vision-prod-vision-11"),
    ],
)
def test_reconciler_name_follows_config_sync(namespace: str, reposync: str, expected: str) -> None:
    assert naming.reconciler_name(namespace, reposync) == expected


def test_reconciler_name_over_63_is_refused() -> None:
    with pytest.raises(naming.NamingError, match="limit is 63"):
        naming.reconciler_name("a" * 30, "b" * 20)


def test_team_service_account_is_shortened_stably(spec) -> None:  # type: ignore[no-untyped-def]
    platform, dev = spec.platform, spec.environments["dev"]
    long_team = spec.teams["vision"].model_copy(update={"name": "computer-vision-research"})
    first = naming.team_service_account_id(platform, dev, long_team)
    assert len(first) <= 30
    assert first == naming.team_service_account_id(platform, dev, long_team)
    assert naming.team_service_account_id(platform, dev, spec.teams["vision"]) == "mlp-dev-vision"


def test_derived_project_id_too_short_is_a_spec_error(tmp_path: Path) -> None:
    root = copy_reference(tmp_path)
    platform = root / "platform.yaml"
    text = (
        platform.read_text()
        .replace("name: mlp", "name: m")
        .replace("project_suffix: a1b2", "project_suffix: x")
    )
    platform.write_text(text)
    (root / "environments" / "d.yaml").write_text("name: d\n")
    with pytest.raises(SpecError) as caught:
        load_spec(root)
    messages = [str(issue) for issue in caught.value.issues]
    assert any(
        "environments.d.name: derived project ID 'm-d-x' is 5 characters; GCP allows 6 to 30" in m
        for m in messages
    ), messages
