"""Config Sync letting go of objects rather than deleting them, as kpt-config-sync and cli-utils
decide: `configmanagement.gke.io/managed: disabled` in the source abandons an object (Config
Sync's metadata removed, out of the inventory, never pruned); a live object annotated
`client.lifecycle.config.k8s.io/deletion: detach` is abandoned when it leaves the source; a
RootSync (inventory policy AdoptAll) prunes an object whatever inventory it names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from tests.sandbox.controllers.fleet_env import POLICY_DIR, SYSTEM, Fleet, eventually, start

NAMESPACE = "shop"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    running = start(tmp_path_factory.mktemp("prune") / "state", "ml-platform-dev")
    try:
        yield running
    finally:
        running.close()


def _map(name: str, annotations: dict[str, str] | None = None) -> str:
    metadata: dict[str, object] = {"name": name, "namespace": NAMESPACE}
    if annotations:
        metadata["annotations"] = annotations
    return yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata})


def _path(name: str) -> str:
    return f"{POLICY_DIR}/{NAMESPACE}/{name}.yaml"


def _live(fleet: Fleet, name: str) -> object:
    found = [
        m for m in fleet.core.list_namespaced_config_map(NAMESPACE).items if m.metadata.name == name
    ]
    return found[0] if found else None


def _inventory(fleet: Fleet) -> set[str]:
    group = fleet.custom.get_namespaced_custom_object(
        "kpt.dev", "v1alpha1", SYSTEM, "resourcegroups", "root-sync"
    )
    return {r["name"] for r in group["spec"]["resources"] if r["kind"] == "ConfigMap"}


def test_released_and_detached_objects_stay_others_are_pruned(fleet: Fleet) -> None:
    fleet.git_creds(SYSTEM)
    namespace = yaml.safe_dump(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}
    )
    files: dict[str, str | None] = {f"{POLICY_DIR}/{NAMESPACE}/namespace.yaml": namespace}
    files.update({_path(n): _map(n) for n in ("kept", "released", "gone", "foreign")})
    fleet.synced(fleet.push(files, "four maps"))
    assert _inventory(fleet) == {"kept", "released", "gone", "foreign"}
    uid = _live(fleet, "released").metadata.uid  # type: ignore[attr-defined]

    # someone marks one to be kept on removal, another now names a different inventory
    fleet.core.patch_namespaced_config_map(
        "kept",
        NAMESPACE,
        {"metadata": {"annotations": {"client.lifecycle.config.k8s.io/deletion": "detach"}}},
    )
    fleet.core.patch_namespaced_config_map(
        "foreign",
        NAMESPACE,
        {"metadata": {"annotations": {"config.k8s.io/owning-inventory": "team_repo-sync"}}},
    )
    disabled = {"configmanagement.gke.io/managed": "disabled"}
    commit = fleet.push(
        {_path("released"): _map("released", disabled), _path("gone"): None}, "release, remove"
    )
    fleet.synced(commit)
    released = _live(fleet, "released")
    assert released is not None and released.metadata.uid == uid  # type: ignore[attr-defined]
    annotations = released.metadata.annotations or {}  # type: ignore[attr-defined]
    assert not [k for k in annotations if k.startswith(("configmanagement.", "configsync."))]
    assert "config.k8s.io/owning-inventory" not in annotations
    labels = released.metadata.labels or {}  # type: ignore[attr-defined]
    assert "app.kubernetes.io/managed-by" not in labels
    assert _live(fleet, "gone") is None
    assert _inventory(fleet) == {"kept", "foreign"}

    commit = fleet.push(
        {_path("released"): None, _path("kept"): None, _path("foreign"): None}, "remove the rest"
    )
    fleet.synced(commit)
    assert _live(fleet, "released") is not None  # out of the inventory: not pruned
    kept = eventually(lambda: _live(fleet, "kept"), "the detached map kept")
    annotations = kept.metadata.annotations or {}  # type: ignore[attr-defined]
    assert annotations.get("client.lifecycle.config.k8s.io/deletion") == "detach"
    assert "configsync.gke.io/manager" not in annotations
    assert _live(fleet, "foreign") is None  # a RootSync adopts and prunes all
