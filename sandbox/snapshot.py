"""Snapshots of a sandbox: save a stopped sandbox's state directory once, then start as many
copies of it as wanted, each in its own state directory and on its own ports.

    snapshot.save(provisioned.state_dir, snap_dir)          # the sandbox is stopped
    with snapshot.restore(snap_dir, tmp / "state") as copy:  # a Sandbox, new ports
        ...

One thing in a sandbox's state names a port: the URL of its GitHub component
(`http://127.0.0.1:PORT`). The tool writes it into what it manages (Config Sync's `syncRepo`,
the RootSync and RepoSyncs' `spec.git.repo`, the manifests in the GitOps repository), and the
Config Sync controller reads from it only while the sandbox's GitHub serves on that port. Every
other URL (the Google APIs, the admin endpoint, the Connect Gateway) lives only in
endpoints.json, which each start writes anew.

A restored copy serves GitHub on a new port, so before its controllers start it relocates the
state: the old URL becomes the new one in every git object and every stored document. A git
object whose bytes change gets a new name, and so do the trees and commits above it; every
ref and every stored document naming an old name then names the new one. The copy holds what
the sandbox would hold had it been built on its new ports: the same files, documents, commit
messages, authors and dates.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from sandbox.cloud import ENDPOINTS_FILE, Sandbox, default_components
from sandbox.github import GitHub
from sandbox.github.git_objects import TreeEntry, format_tree, parse_tree
from sandbox.github.gitrepo import GitRepo
from sandbox.runtime import Runtime

SNAPSHOT_FILE = "snapshot.json"
_SHA = re.compile(r"\b[0-9a-f]{40}\b")


def save(state_dir: Path, dest: Path) -> Path:
    """Copy the state directory of a stopped sandbox to `dest` (which must not exist), with the
    GitHub URL its state names; returns `dest`."""
    endpoints = json.loads((state_dir / ENDPOINTS_FILE).read_text())
    github = (endpoints.get("components") or {}).get("github", "")
    shutil.copytree(state_dir, dest, ignore=shutil.ignore_patterns(ENDPOINTS_FILE))
    (dest / SNAPSHOT_FILE).write_text(json.dumps({"github": github}) + "\n")
    return dest


def restore(snapshot: Path, state_dir: Path, **options: Any) -> Sandbox:
    """A Sandbox (not started; `options` as Sandbox takes them) over a copy of the snapshot at
    `state_dir`, which must not exist. Each start serves on new ports and relocates the state
    to the new GitHub URL before the controllers read it."""
    recorded = json.loads((snapshot / SNAPSHOT_FILE).read_text())
    shutil.copytree(snapshot, state_dir, ignore=shutil.ignore_patterns(SNAPSHOT_FILE))
    components = default_components(state_dir, {})
    (github,) = (c for c in components if isinstance(c, GitHub))
    relocation = Relocation(github, str(recorded["github"]))
    components.insert(components.index(github) + 1, relocation)
    return Sandbox(state_dir, components=components, **options)


class Relocation:
    """A component that serves nothing: at start, rewrites the state from the GitHub URL it
    last named to the URL the GitHub component now serves (it must start after GitHub and
    before the controllers)."""

    name = "relocation"

    def __init__(self, github: GitHub, previous_url: str) -> None:
        self._github = github
        self.previous_url = previous_url

    def start(self, rt: Runtime) -> str:
        url = self._github.url
        if self.previous_url and self.previous_url != url:
            relocate(rt, self._github.root, self.previous_url, url)
        self.previous_url = url
        return ""

    def stop(self) -> None:
        """Nothing runs."""


def relocate(rt: Runtime, repos: Path, old: str, new: str) -> dict[str, str]:
    """Replace the URL `old` by `new` in every repository under `repos` and every document of
    the store; returns the git objects renamed (old name → new name)."""
    renamed: dict[str, str] = {}
    for path in sorted(repos.glob("*/*.git")):
        renamed.update(_relocate_repository(GitRepo(path), old.encode(), new.encode()))

    def rename(text: str) -> str:
        text = text.replace(old, new)
        return _SHA.sub(lambda m: renamed.get(m.group(0), m.group(0)), text) if renamed else text

    store = rt.store
    with store.transaction():
        for collection in store.collections():
            for key, doc in store.items(collection):
                text = json.dumps(doc, sort_keys=True)
                changed = rename(text)
                if changed != text:
                    store.put(collection, key, json.loads(changed))
    return renamed


def _relocate_repository(repo: GitRepo, old: bytes, new: bytes) -> dict[str, str]:
    """Rewrite every object of a bare repository that holds `old` (or names one that does),
    then move its refs; returns old name → new name for the objects whose name changed."""
    listed = repo.run("cat-file", "--batch-all-objects", "--batch-check=%(objectname)").stdout
    objects = {o.sha: o for o in repo.read(listed.decode().split()) if o is not None}
    renamed: dict[str, str] = {}

    def name_of(sha: str) -> str:
        """The object's name after the rewrite (written when it changes)."""
        if sha in renamed:
            return renamed[sha]
        obj = objects.get(sha)
        if obj is None:  # named but absent (a submodule's commit): unchanged
            return sha
        if obj.kind == "tree":
            entries = parse_tree(obj.body)
            moved = {n: TreeEntry(n, e.mode, name_of(e.sha)) for n, e in entries.items()}
            body = obj.body if moved == entries else format_tree(moved)
        else:  # blobs hold the URL; commits and tags name their tree, parents, object in hex
            body = obj.body.replace(old, new)
            if obj.kind != "blob":
                body = re.sub(
                    rb"\b[0-9a-f]{40}\b", lambda m: name_of(m.group(0).decode()).encode(), body
                )
        renamed[sha] = sha if body == obj.body else repo.write(obj.kind, body)
        return renamed[sha]

    # Oldest commits first, so that naming a commit never recurses down a long history.
    history = repo.run("rev-list", "--all", "--topo-order", "--reverse", check=False).stdout
    for sha in [*history.decode().split(), *objects]:
        name_of(sha)
    for ref, sha, _kind in repo.refs():
        if renamed.get(sha, sha) != sha:
            repo.update_ref(ref, renamed[sha], sha, "sandbox snapshot relocated")
    return {old_sha: new_sha for old_sha, new_sha in renamed.items() if old_sha != new_sha}
