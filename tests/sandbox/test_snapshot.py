"""Sandbox snapshots: a copy restored on new ports answers gcloud, Kubernetes and git as the
original did, with its own GitHub URL wherever the original named its own; copies run side by
side, and their controllers keep syncing from the relocated repository."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sandbox import snapshot
from sandbox.github import ADMIN_TOKEN
from tests.sandbox.controllers.fleet_env import (
    APP,
    APPS,
    BINDING,
    BRANCH,
    POLICY_DIR,
    SYSTEM,
    Fleet,
    attach,
    eventually,
    start,
    team_syncs,
)

PROJECT = "ml-platform-snap"
TEAM = "team-b"


def _repo_url(fleet: Fleet) -> str:
    return f"{fleet.github.url}/mlplat/platform-config.git"


def _answers(fleet: Fleet, tmp: Path) -> dict[str, Any]:
    """What gcloud, Kubernetes and git say about the fleet, its syncs and its repository."""
    fleet.git_creds(TEAM)
    repo_sync = eventually(
        lambda: (fleet.sync(TEAM, "repo-sync", "reposyncs").get("status") or {}).get(
            "lastSyncedCommit"
        ),
        "the RepoSync synced",
    )
    hub = fleet.gcloud(tmp, "container", "fleet", "features", "describe", "configmanagement")
    remote = urlsplit(_repo_url(fleet))
    authed = remote._replace(netloc=f"x-access-token:{ADMIN_TOKEN}@{remote.netloc}").geturl()
    clone = tmp / f"clone-{remote.port}"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, authed, str(clone)], check=True)
    return {
        "clusters": [
            (c["name"], c["status"]) for c in fleet.gcloud(tmp, "container", "clusters", "list")
        ],
        "hub": {key: hub.get(key) for key in ("membershipSpecs", "membershipStates")},
        "root_sync": fleet.sync()["spec"]["git"]["repo"],
        "root_commit": fleet.sync()["status"]["lastSyncedCommit"],
        "repo_sync": (fleet.sync(TEAM, "repo-sync", "reposyncs")["spec"]["git"], repo_sync),
        "config_maps": sorted(
            cm.metadata.name for cm in fleet.core.list_namespaced_config_map(TEAM).items
        ),
        "git_log": subprocess.run(
            ["git", "-C", str(clone), "log", "--format=%H %an %at %s"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout,
        "files": {
            str(p.relative_to(clone)): p.read_text()
            for p in sorted(clone.rglob("*.yaml"))
            if ".git" not in p.parts
        },
    }


def _relocated(answers: dict[str, Any], renamed: dict[str, str], old: str, new: str) -> Any:
    """The answers with the original's URL and commit names replaced by the copy's."""
    text = repr(answers).replace(old, new)
    for before, after in renamed.items():
        text = text.replace(before, after).replace(before[:8], after[:8])
    return text


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """A snapshot of a fleet whose Git names its own repository (a RepoSync), with what the
    original answered, and its GitHub URL."""
    tmp = tmp_path_factory.mktemp("original")
    fleet = start(tmp / "state", PROJECT)
    try:
        eventually(lambda: fleet.core.read_namespace(SYSTEM), "Config Sync installed")
        fleet.git_creds(SYSTEM)
        commit = fleet.push(
            {
                f"{POLICY_DIR}/{TEAM}/team.yaml": team_syncs(_repo_url(fleet)),
                f"{POLICY_DIR}/{TEAM}/rbac.yaml": BINDING,
                f"{APPS}/app.yaml": APP,
            },
            TEAM,
        )
        fleet.synced(commit)
        answers = _answers(fleet, tmp)
        url = fleet.github.url
    finally:
        fleet.close()
    return snapshot.save(tmp / "state", tmp / "snapshot"), answers, url


def _restored(saved_dir: Path, tmp: Path) -> Fleet:
    return attach(snapshot.restore(saved_dir, tmp / "state").start(), PROJECT)


def test_a_restored_copy_answers_as_the_original_on_its_own_ports(
    saved: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    saved_dir, original, old_url = saved
    first = _restored(saved_dir, tmp_path / "one")
    second = _restored(saved_dir, tmp_path / "two")  # side by side with the first
    try:
        urls = {old_url, first.github.url, second.github.url}
        assert len(urls) == 3, "each copy serves GitHub on a port of its own"
        for copy, where in ((first, tmp_path / "one"), (second, tmp_path / "two")):
            answers = _answers(copy, where)
            renamed = _renames(original, answers)
            assert repr(answers) == _relocated(original, renamed, old_url, copy.github.url)
            assert old_url not in repr(answers)
            assert answers["root_sync"] == _repo_url(copy)
            assert renamed, "the commit whose files name the repository was renamed"
    finally:
        first.close()
        second.close()


def test_a_restored_copy_keeps_syncing_from_its_relocated_repository(
    saved: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    saved_dir, _, _ = saved
    copy = _restored(saved_dir, tmp_path)
    try:
        commit = copy.push({f"{APPS}/more.yaml": APP.replace("app-config", "more")})
        copy.synced(commit)
        eventually(
            lambda: (
                copy.sync(TEAM, "repo-sync", "reposyncs")["status"].get("lastSyncedCommit")
                == commit
            ),
            "the RepoSync synced the new commit",
        )
        names = {cm.metadata.name for cm in copy.core.list_namespaced_config_map(TEAM).items}
        assert {"app-config", "more"} <= names
    finally:
        copy.close()


def _renames(original: dict[str, Any], copy: dict[str, Any]) -> dict[str, str]:
    """Commit names of the original's log → the copy's, line by line (same authors, dates and
    messages: only the names may differ)."""
    before = [line.split(" ", 1) for line in original["git_log"].splitlines()]
    after = [line.split(" ", 1) for line in copy["git_log"].splitlines()]
    assert [rest for _, rest in before] == [rest for _, rest in after]
    return {old: new for (old, _), (new, _) in zip(before, after, strict=True) if old != new}
