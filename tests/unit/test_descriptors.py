"""Every managed kind's descriptor: each field it renders (and compares) is either immutable or
has an update call, so a spec change plans as something an apply can do, or is refused at plan
time (ReplacementRequired) — never an update that fails at apply."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from mlplat.kinds import catalog
from mlplat.kinds.descriptor import (
    Descriptor,
    InEnvironment,
    dependency_order,
    leaves,
    pick,
    value_at,
)
from mlplat.specs import PlatformSpec, load_spec
from tests.unit.spec_files import REFERENCE, copy_reference, set_path


@dataclass(frozen=True)
class Scope(InEnvironment):
    """One environment of a spec, as rendering sees it (EnvContext without a target)."""

    spec: PlatformSpec
    env_name: str

    @property
    def repo_url(self) -> str:
        return "https://github.com/ml-platform-org/mlp-configsync.git"


# Variants of the reference spec: key in the environment file → value.
VARIANTS = {
    "reference": {},
    "no autoprovisioning, no DNS endpoint": {
        "cluster.autoprovisioning.enabled": False,
        "cluster.dns_endpoint": False,
    },
    "Policy Controller off, Ray logging off, drift prevention off": {
        "policy_controller.enabled": False,
        "cluster.ray_operator.logging": False,
        "config_sync.prevent_drift": False,
    },
    "minimum version and authorized networks": {
        "cluster.min_master_version": "1.33",
        "network.authorized_networks": [{"name": "office", "cidr": "203.0.113.0/24"}],
    },
}


def _scopes(tmp_path: Path, variant: dict[str, object]) -> list[Scope]:
    root = REFERENCE
    if variant:
        root = copy_reference(tmp_path)
        for env_file in (root / "environments").glob("*.yaml"):
            data = yaml.safe_load(env_file.read_text())
            for dotted, value in variant.items():
                set_path(data, dotted, value)
            env_file.write_text(yaml.safe_dump(data))
    spec = load_spec(root)
    return [Scope(spec, name) for name in sorted(spec.environments)]


@pytest.mark.parametrize("variant", VARIANTS.values(), ids=list(VARIANTS))
def test_every_rendered_field_is_immutable_or_updatable(
    tmp_path: Path, variant: dict[str, object]
) -> None:
    uncovered: dict[str, list[str]] = {}
    rendered = 0
    for scope in _scopes(tmp_path, variant):
        for descriptor in catalog.KINDS:
            for desired in descriptor.desired(scope):
                rendered += 1
                compared = leaves(desired.body) if descriptor.compared else []
                missing = descriptor.uncovered(compared)
                if missing:
                    uncovered[f"{desired.kind} {desired.name}"] = missing
    assert rendered > 50
    assert not uncovered, f"rendered fields neither immutable nor updatable: {uncovered}"


def test_fields_compared_by_hand_have_update_calls() -> None:
    for descriptor in catalog.KINDS:
        assert not descriptor.uncovered(descriptor.fields), descriptor.kind


def test_a_rendered_field_in_neither_list_fails() -> None:
    """The check above can fail: a kind that forgets a field's update call is caught."""
    forgetful = Descriptor(
        "compute/network",
        render=catalog.NETWORK.render,
        immutable=catalog.NETWORK.immutable,
        updates={"description": catalog.NETWORK.updates["description"]},
    )
    scope = Scope(load_spec(REFERENCE), "dev")
    (desired,) = forgetful.desired(scope)
    assert forgetful.uncovered(leaves(desired.body)) == ["routingConfig.routingMode"]


def test_rendered_kinds_and_graph_are_consistent() -> None:
    scope = Scope(load_spec(REFERENCE), "dev")
    kinds = {d.kind for d in catalog.KINDS}
    for descriptor in catalog.KINDS:
        for desired in descriptor.desired(scope):
            family = descriptor.kind.split("/")[0] + "/"
            assert desired.kind in (descriptor.kind, family + desired.kind[len(family) :])
        related = {descriptor.parent, *descriptor.children, *descriptor.after} - {""}
        assert related <= kinds, descriptor.kind
    ordered = [d.kind for d in dependency_order(catalog.KINDS)]
    assert ordered.index("compute/network") < ordered.index("compute/subnetwork")
    assert ordered.index("gke/cluster") < ordered.index("gke/node-pool")


def test_network_teardown_order_is_router_subnet_reservation_vpc() -> None:
    network = [catalog.NETWORK, catalog.RESERVATION, catalog.SUBNETWORK, catalog.ROUTER]
    backwards = [d.kind for d in reversed(dependency_order(network))]
    assert backwards == [
        "compute/router",
        "compute/subnetwork",
        "compute/reservation",
        "compute/network",
    ]


def test_update_keys_follow_the_table_and_name_what_no_call_changes() -> None:
    cluster = catalog.CLUSTER
    keys, missing = cluster.update_keys(
        ["releaseChannel.channel", "networkConfig.defaultEnablePrivateNodes", "addonsConfig.x.y"]
    )
    assert keys == ["networkConfig.defaultEnablePrivateNodes", "addonsConfig", "releaseChannel"]
    assert missing == []
    assert catalog.NODE_POOL.update_keys(["config.labels.team", "nodeVersion"]) == (
        ["config.labels"],
        ["nodeVersion"],
    )


def test_pick_and_value_at_keep_the_body_shape() -> None:
    body = {"specificReservation": {"count": 2, "instanceProperties": {"machineType": "g2"}}}
    assert pick(body, ["specificReservation.count"]) == {"specificReservation": {"count": 2}}
    assert value_at(body, "specificReservation.instanceProperties.machineType") == "g2"
    assert value_at(body, "nothing.here") is None
