"""One bare repository on disk: objects written directly, everything else through git plumbing.

Objects (blobs, trees, commits) are written as loose objects by this module (zlib of
`<type> <size>\\0<body>`, exactly what `git hash-object -w` writes), saving a process per object;
reads go through one `git cat-file --batch` per group of objects, and ref updates through
`git update-ref` with the expected old value, so they lock and compare like a push does.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ZERO = "0" * 40
_SHA = re.compile(r"[0-9a-f]{40}")
_REF_PART = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")  # no "..", no leading "."


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for git: no inherited GIT_* variables, no user or system config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class GitObject:
    """An object read from the repository."""

    sha: str
    kind: str  # blob, tree, commit, tag
    body: bytes


@dataclass(frozen=True)
class ListedEntry:
    """A line of `git ls-tree -l`: path relative to the listed tree."""

    mode: str
    kind: str
    sha: str
    size: int | None
    path: str


class GitError(RuntimeError):
    """A git command failed unexpectedly."""


class GitRepo:
    """A bare repository at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(
        self, *args: str, stdin: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `git <args>` in the repository."""
        result = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            input=stdin,
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if check and result.returncode != 0:
            raise GitError(f"git {args[0]}: {result.stderr.decode(errors='replace').strip()}")
        return result

    def init(self, default_branch: str) -> None:
        """Create the bare repository with HEAD on default_branch."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "git",
                "init",
                "--bare",
                "--quiet",
                f"--initial-branch={default_branch}",
                str(self.path),
            ],
            capture_output=True,
            env=git_env(),
            check=True,
        )

    def write(self, kind: str, body: bytes) -> str:
        """Store an object; returns its SHA-1."""
        data = f"{kind} {len(body)}\0".encode() + body
        sha = hashlib.sha1(data).hexdigest()
        target = self.path / "objects" / sha[:2] / sha[2:]
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="tmp_obj_")
            with os.fdopen(fd, "wb") as handle:
                handle.write(zlib.compress(data))
            os.chmod(tmp, 0o400)  # read-only, as git leaves objects; its owner's only
            os.replace(tmp, target)
        return sha

    def read(self, names: Sequence[str]) -> list[GitObject | None]:
        """Objects by name (SHA or any revision such as `main:dir/file`); None when missing."""
        if not names:
            return []
        if any("\n" in name for name in names):
            raise ValueError("object names cannot contain newlines")
        out = self.run("cat-file", "--batch", stdin=("\n".join(names) + "\n").encode()).stdout
        objects: list[GitObject | None] = []
        pos = 0
        for _ in names:
            end = out.index(b"\n", pos)
            header = out[pos:end].decode(errors="replace").split(" ")
            pos = end + 1
            if len(header) != 3 or header[1] not in ("blob", "tree", "commit", "tag"):
                objects.append(None)
                continue
            size = int(header[2])
            objects.append(GitObject(header[0], header[1], out[pos : pos + size]))
            pos += size + 1
        return objects

    def read_one(self, name: str) -> GitObject | None:
        """One object by name, or None."""
        return self.read([name])[0]

    def resolve(self, rev: str) -> str | None:
        """The commit a revision (branch, tag, SHA, `refs/…`) names, or None."""
        if not rev or rev.startswith("-") or any(c in rev for c in " \n\t:^~"):
            return None
        branch = self._branch_head(rev)
        if branch is not None:
            return branch
        found = self.read_one(f"{rev}^{{commit}}")
        return None if found is None else found.sha

    def _branch_head(self, rev: str) -> str | None:
        """The commit of branch `rev` read from its loose ref file, when `rev` can only mean
        that branch; None to ask git. Config Sync's pollers resolve their branch several times
        a second per sync: a git process each was most of the sandbox's Git cost."""
        if _SHA.fullmatch(rev) or not all(_REF_PART.fullmatch(p) for p in rev.split("/")):
            return None
        ambiguous = (self.path / rev, self.path / "refs" / rev, self.path / "refs/tags" / rev)
        if any(path.exists() for path in ambiguous) or (self.path / "packed-refs").exists():
            return None  # git's own lookup order decides
        try:
            text = (self.path / "refs/heads" / rev).read_text().strip()
        except OSError:
            return None
        return text if _SHA.fullmatch(text) else None

    def refs(self, prefix: str = "refs/") -> list[tuple[str, str, str]]:
        """(refname, sha, object type) of every ref under prefix, sorted by name."""
        out = self.run(
            "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", prefix
        ).stdout.decode()
        rows = [line.split(" ") for line in out.splitlines() if line]
        return [(row[0], row[1], row[2]) for row in rows]

    def update_ref(self, ref: str, new: str, old: str | None, message: str = "") -> bool:
        """Move ref to new if it is at old (None: must not exist); False when it is not."""
        args = ["update-ref", "-m", message or "sandbox", ref, new, old or ZERO]
        return self.run(*args, check=False).returncode == 0

    def delete_ref(self, ref: str, old: str) -> bool:
        """Delete ref if it is at old; False when it is not."""
        return self.run("update-ref", "-d", ref, old, check=False).returncode == 0

    def set_head(self, branch: str) -> None:
        """Point HEAD at a branch (the default branch of clones)."""
        self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """True when ancestor is reachable from descendant (a fast-forward)."""
        result = self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False)
        if result.returncode > 1:
            raise GitError(f"git merge-base: {result.stderr.decode(errors='replace').strip()}")
        return result.returncode == 0

    def merge_base(self, one: str, two: str) -> str | None:
        """The best common ancestor of two commits, or None."""
        result = self.run("merge-base", one, two, check=False)
        return result.stdout.decode().strip() or None if result.returncode == 0 else None

    def merge_trees(self, ours: str, theirs: str) -> str | None:
        """The tree of a three-way merge of two commits, or None on conflicts."""
        result = self.run(
            "merge-tree", "--write-tree", "--no-messages", "--allow-unrelated-histories",
            ours, theirs, check=False,
        )  # fmt: skip
        if result.returncode == 1:
            return None
        if result.returncode != 0:
            raise GitError(f"git merge-tree: {result.stderr.decode(errors='replace').strip()}")
        return result.stdout.decode().split("\n", 1)[0].strip()

    def ls_tree(self, treeish: str, recursive: bool = False) -> list[ListedEntry]:
        """Entries of a tree (with blob sizes); recursive lists everything below it too."""
        args = ["ls-tree", "-z", "-l", *(["-r", "-t"] if recursive else []), treeish]
        out = self.run(*args).stdout.decode("utf-8", errors="surrogateescape")
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, sha, size = meta.split()
            entries.append(ListedEntry(mode, kind, sha, None if size == "-" else int(size), path))
        return entries

    def history(self, start: str, path: str = "", limit: int = 30, skip: int = 0) -> list[str]:
        """Commit SHAs reachable from start, newest first, optionally touching path."""
        args = ["rev-list", f"--max-count={limit}", f"--skip={skip}", start]
        if path:
            args += ["--", path]
        return self.run(*args).stdout.decode().split()

    def changed_paths(self, old_tree: str, new_tree: str) -> list[tuple[str, str]]:
        """(status letter, path) of files that differ between two trees."""
        out = self.run("diff-tree", "-r", "-z", "--name-status", old_tree, new_tree).stdout
        fields = out.decode("utf-8", errors="surrogateescape").split("\0")
        return [(fields[i], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]
