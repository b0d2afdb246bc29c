"""git over smart HTTP: clone, push, branch protection as git reports it, auth, counters."""

from __future__ import annotations

import os
from pathlib import Path

from github.Repository import Repository

from tests.sandbox.github.conftest import READER_TOKEN, REVIEWER_TOKEN, GitCli, Hub


def _commit(git: GitCli, work: Path, name: str, content: bytes) -> str:
    (work / name).parent.mkdir(parents=True, exist_ok=True)
    (work / name).write_bytes(content)
    git.ok("add", name, cwd=work)
    git.ok("commit", "-q", "-m", f"Add {name}", cwd=work)
    return git.ok("rev-parse", "HEAD", cwd=work).strip()


def test_clone_push_and_protected_branch(
    gitops: Repository, hub: Hub, git: GitCli, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    git.ok("clone", "-q", hub.remote("mlplat/gitops"), str(work))
    assert (work / "README.md").read_text() == "# gitops\n"

    head = _commit(git, work, "manifests/a.yaml", b"a: 1\n")
    git.ok("push", "-q", "origin", "HEAD:dev", cwd=work)
    assert gitops.get_branch("dev").commit.sha == head

    prod = gitops.get_branch("prod").commit.sha
    refused = git("push", "origin", "HEAD:prod", cwd=work)
    assert refused.returncode != 0
    assert "GH006: Protected branch update failed for refs/heads/prod." in refused.stderr
    assert "Changes must be made through a pull request." in refused.stderr
    assert "(protected branch hook declined)" in refused.stderr
    assert gitops.get_branch("prod").commit.sha == prod

    # Admins bypass protection unless it enforces admins.
    gitops.get_branch("prod").edit_protection(
        required_approving_review_count=1, enforce_admins=False
    )
    git.ok("push", "-q", "origin", "HEAD:prod", cwd=work)
    assert gitops.get_branch("prod").commit.sha == head

    # A commit made through the API is what a fresh clone sees.
    made = gitops.create_file("manifests/b.yaml", "Add b", "b: 2\n", branch="dev")["commit"]
    fresh = tmp_path / "fresh"
    git.ok("clone", "-q", "--branch", "dev", hub.remote("mlplat/gitops"), str(fresh))
    assert git.ok("rev-parse", "HEAD", cwd=fresh).strip() == made.sha
    assert (fresh / "manifests/b.yaml").read_text() == "b: 2\n"
    assert (fresh / "manifests/a.yaml").read_text() == "a: 1\n"


def test_force_push_and_deletion_refused_on_protected_branch(
    gitops: Repository, hub: Hub, git: GitCli, tmp_path: Path
) -> None:
    gitops.get_branch("main").edit_protection(allow_force_pushes=False, enforce_admins=True)
    work = tmp_path / "work"
    git.ok("clone", "-q", hub.remote("mlplat/gitops", REVIEWER_TOKEN), str(work))
    first = _commit(git, work, "one.txt", b"1\n")
    git.ok("push", "-q", "origin", "main", cwd=work)  # a fast-forward is allowed
    assert gitops.get_branch("main").commit.sha == first

    git.ok("commit", "-q", "--amend", "-m", "Rewritten", cwd=work)
    forced = git("push", "--force", "origin", "main", cwd=work)
    assert forced.returncode != 0
    assert "Cannot force-push to this branch" in forced.stderr
    deleted = git("push", "origin", "--delete", "main", cwd=work)
    assert "Cannot delete this protected branch" in deleted.stderr
    assert gitops.get_branch("main").commit.sha == first


def test_chunked_push_and_gzipped_fetch(
    gitops: Repository, hub: Hub, git: GitCli, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    git.ok("clone", "-q", hub.remote("mlplat/gitops"), str(work))
    payload = os.urandom(256 * 1024)
    head = _commit(git, work, "blob.bin", payload)
    # A body larger than http.postBuffer is sent with Transfer-Encoding: chunked.
    git.ok("-c", "http.postBuffer=8192", "push", "-q", "origin", "HEAD:dev", cwd=work)
    assert gitops.get_branch("dev").commit.sha == head
    stored = gitops.get_contents("blob.bin", ref="dev")
    assert not isinstance(stored, list)
    assert gitops.get_git_blob(stored.sha).size == len(payload)

    # Many local commits the server lacks make git gzip its upload-pack negotiation.
    for number in range(40):
        git.ok("commit", "-q", "--allow-empty", "-m", f"local {number}", cwd=work)
    made = gitops.create_file("api.txt", "From the API", "api\n", branch="main")["commit"]
    git.ok("fetch", "-q", "origin", cwd=work)
    assert git.ok("rev-parse", "origin/main", cwd=work).strip() == made.sha


def test_git_authentication_and_permissions(
    gitops: Repository, hub: Hub, git: GitCli, tmp_path: Path
) -> None:
    anonymous = git("clone", f"{hub.github.url}/mlplat/gitops.git", str(tmp_path / "a"))
    assert anonymous.returncode != 0
    wrong = git("clone", hub.remote("mlplat/gitops", "ghp_wrong"), str(tmp_path / "b"))
    assert "Authentication failed" in wrong.stderr

    work = tmp_path / "reader"
    git.ok("clone", "-q", hub.remote("mlplat/gitops", READER_TOKEN), str(work))
    _commit(git, work, "r.txt", b"r\n")
    pushed = git("push", "origin", "HEAD:dev", cwd=work)
    assert pushed.returncode != 0
    assert "403" in pushed.stderr

    hub.client().get_organization("mlplat").create_repo("secret", private=True, auto_init=True)
    hidden = git("clone", hub.remote("mlplat/secret", READER_TOKEN), str(tmp_path / "c"))
    assert hidden.returncode != 0


def test_git_counters_split_fetches_and_pushes(
    gitops: Repository, hub: Hub, git: GitCli, tmp_path: Path
) -> None:
    counters = hub.sandbox.rt.counters
    counters.reset()
    work = tmp_path / "work"
    git.ok("clone", "-q", hub.remote("mlplat/gitops"), str(work))
    git.ok("ls-remote", "origin", cwd=work)
    snapshot = counters.snapshot()
    assert snapshot["writes"] == 0
    assert snapshot["methods"]["git.upload-pack"]["reads"] >= 2

    _commit(git, work, "c.txt", b"c\n")
    git.ok("push", "-q", "origin", "HEAD:dev", cwd=work)
    receive = counters.snapshot()["methods"]["git.receive-pack"]
    # git asks without credentials first: the advertisement is read twice (401, then 200).
    assert (receive["reads"], receive["writes"], receive["errors"]) == (2, 1, 1)
