"""The controllers keep their state in the sandbox store: after a restart on the same state,
syncs carry on (no re-apply needed to report synced) and objects applied before the restart
are still pruned when they leave Git."""

from __future__ import annotations

from pathlib import Path

from tests.sandbox.controllers.fleet_env import POLICY_DIR, SYSTEM, eventually, reopen, start

PROJECT = "ml-platform-restart"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: default}}\n"


def test_a_restarted_sandbox_carries_on(tmp_path: Path) -> None:
    state = tmp_path / "state"
    fleet = start(state, PROJECT)
    try:
        eventually(lambda: fleet.core.read_namespace(SYSTEM), "Config Sync installed")
        fleet.git_creds(SYSTEM)
        before = fleet.push(
            {
                f"{POLICY_DIR}/a.yaml": CM.format(name="a"),
                f"{POLICY_DIR}/b.yaml": CM.format(name="b"),
            }
        )
        fleet.synced(before)
    finally:
        fleet.close()

    again = reopen(state, PROJECT)
    try:
        assert again.sync()["status"]["lastSyncedCommit"] == before
        after = again.push({f"{POLICY_DIR}/b.yaml": None}, "drop b")
        again.synced(after)
        names = {cm.metadata.name for cm in again.core.list_namespaced_config_map("default").items}
        assert "a" in names and "b" not in names
        eventually(
            lambda: (
                again.hub_state().configmanagement.config_sync_state.sync_state.sync_token == after
            ),
            "hub sees the new commit",
        )
    finally:
        again.close()
