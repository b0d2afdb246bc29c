"""Branch names resolved from their ref files give what git itself gives, including where a
name could mean something else (a tag of the same name, packed refs, a path outside)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sandbox.github.gitrepo import GitRepo


def _repo(tmp_path: Path) -> tuple[GitRepo, str, str]:
    repo = GitRepo(tmp_path / "r.git")
    repo.init("main")
    work = tmp_path / "work"
    env = ["-c", "user.name=t", "-c", "user.email=t@example.com"]

    def git(*args: str) -> str:
        done = subprocess.run(["git", *env, *args], cwd=work, capture_output=True, check=True)
        return done.stdout.decode().strip()

    subprocess.run(["git", "clone", "-q", str(repo.path), str(work)], check=True)
    git("commit", "-q", "--allow-empty", "-m", "one")
    first = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "two")
    second = git("rev-parse", "HEAD")
    git("push", "-q", "origin", "main", f"{first}:refs/heads/team/a")
    return repo, first, second


def _git_says(repo: GitRepo, rev: str) -> str | None:
    found = repo.read_one(f"{rev}^{{commit}}")
    return None if found is None else found.sha


def test_a_branch_resolves_as_git_resolves_it(tmp_path: Path) -> None:
    repo, first, second = _repo(tmp_path)
    assert repo.resolve("main") == second == _git_says(repo, "main")
    assert repo.resolve("team/a") == first == _git_says(repo, "team/a")
    assert repo.resolve(first) == first
    assert repo.resolve("nope") is None
    assert repo.resolve("../r.git/HEAD") is None


def test_a_tag_of_the_same_name_and_packed_refs_are_left_to_git(tmp_path: Path) -> None:
    repo, first, second = _repo(tmp_path)
    repo.run("tag", "main", first)  # git prefers refs/tags/main to refs/heads/main
    assert repo.resolve("main") == first == _git_says(repo, "main")
    repo.run("tag", "-d", "main")
    repo.run("pack-refs", "--all")
    assert not (repo.path / "refs/heads/main").exists()
    assert repo.resolve("main") == second
    repo.update_ref("refs/heads/main", first, second)  # a loose ref over a packed one
    assert repo.resolve("main") == first == _git_says(repo, "main")
