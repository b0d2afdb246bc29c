"""Editing trees by path: set or delete entries anywhere below a base tree, write the new trees.

Only the directories on the edited paths are read (one `cat-file --batch`) and rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.github.git_objects import TREE_MODE, TreeEntry, format_tree, parse_tree
from sandbox.github.gitrepo import GitRepo

# path -> (mode as git stores it, sha), or None to delete the path (a file or a whole directory)
Edits = Mapping[str, tuple[str, str] | None]


def clean_path(path: str) -> str:
    """A repository path without leading, trailing or doubled slashes; ValueError when invalid."""
    parts = [part for part in path.strip("/").split("/") if part]
    if not parts or any(part in (".", "..", ".git") or "\0" in part for part in parts):
        raise ValueError(f"invalid path {path!r}")
    return "/".join(parts)


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def apply_edits(repo: GitRepo, base_tree: str | None, edits: Edits) -> str:
    """Write the tree that results from applying edits to base_tree (None: an empty tree)."""
    directories = {""}
    for path in edits:
        parent = _parent(path)
        while parent:
            directories.add(parent)
            parent = _parent(parent)
    # Deepest directories last, so that walking the list backwards writes children first.
    ordered = sorted(directories, key=lambda d: (d.count("/") + bool(d), d))
    trees: dict[str, dict[str, TreeEntry]] = {d: {} for d in ordered}
    if base_tree is not None:
        names = [f"{base_tree}:{d}" if d else base_tree for d in ordered]
        for directory, found in zip(ordered, repo.read(names), strict=True):
            if found is not None and found.kind == "tree":
                trees[directory] = parse_tree(found.body)
    for path, change in edits.items():
        parent, _, name = path.rpartition("/")
        if change is None:
            trees[parent].pop(name, None)
        else:
            trees[parent][name] = TreeEntry(name, change[0], change[1])
    for directory in reversed(ordered[1:]):
        parent, _, name = directory.rpartition("/")
        entries = trees[directory]
        if not entries:  # git keeps no empty directories
            trees[parent].pop(name, None)
            continue
        trees[parent][name] = TreeEntry(name, TREE_MODE, repo.write("tree", format_tree(entries)))
    return repo.write("tree", format_tree(trees[""]))
