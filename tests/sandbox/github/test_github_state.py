"""Persistence across restarts, store resets, and the in-process reader API."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import GithubException, UnknownObjectException

from sandbox.github import ADMIN_LOGIN, ADMIN_TOKEN
from tests.sandbox.github.conftest import REVIEWER_TOKEN, GitCli, Hub, start


def test_restart_keeps_repositories_protection_and_pulls(tmp_path: Path, git: GitCli) -> None:
    state = tmp_path / "state"
    first = start(state)
    try:
        first.github.create_user("reviewer", REVIEWER_TOKEN, orgs=["mlplat"])
        repo = first.client().get_organization("mlplat").create_repo("gitops", auto_init=True)
        repo.create_git_ref("refs/heads/prod", repo.get_branch("main").commit.sha)
        repo.get_branch("prod").edit_protection(required_approving_review_count=2)
        repo.create_file("a.yaml", "Add a", "a\n", branch="main")
        repo.create_pull(base="prod", head="main", title="Promote")
        head = repo.get_branch("main").commit.sha
    finally:
        first.sandbox.stop()

    second = start(state)
    try:
        again = second.client(REVIEWER_TOKEN).get_repo("mlplat/gitops")
        assert again.get_branch("main").commit.sha == head
        admin_view = second.client().get_repo("mlplat/gitops")
        rule = admin_view.get_branch("prod").get_protection()
        assert rule.required_pull_request_reviews.required_approving_review_count == 2
        pull = again.get_pull(1)
        assert (pull.title, pull.state, pull.head.sha) == ("Promote", "open", head)
        with pytest.raises(GithubException):
            pull.merge()
        work = tmp_path / "work"
        git.ok("clone", "-q", second.remote("mlplat/gitops"), str(work))
        assert (work / "a.yaml").read_text() == "a\n"
    finally:
        second.sandbox.stop()


def test_store_reset_seeds_again_and_forgets_repositories(hub: Hub) -> None:
    hub.client().get_organization("mlplat").create_repo("gitops", auto_init=True)
    hub.sandbox.rt.reset()
    gh = hub.client()
    assert gh.get_user().login == ADMIN_LOGIN
    with pytest.raises(UnknownObjectException):
        gh.get_repo("mlplat/gitops")
    recreated = gh.get_organization("mlplat").create_repo("gitops")
    assert recreated.get_branches().totalCount == 0


def test_reader_api_for_in_process_consumers(hub: Hub) -> None:
    repo = hub.client().get_organization("mlplat").create_repo("gitops", auto_init=True)
    repo.create_file("manifests/clusters/ns.yaml", "ns", "kind: Namespace\n")
    repo.create_file("manifests/apps/vision/rb.yaml", "rb", "kind: RoleBinding\n")
    main = repo.get_branch("main").commit.sha

    github = hub.github
    assert github.resolve("mlplat", "gitops", "main") == main
    assert github.resolve("mlplat", "gitops", main) == main
    assert github.resolve("mlplat", "gitops", "nope") is None
    assert github.resolve("mlplat", "missing", "main") is None
    assert github.read_tree("mlplat", "gitops", "main", "manifests/apps") == {
        "manifests/apps/vision/rb.yaml": b"kind: RoleBinding\n"
    }
    everything = github.read_tree("mlplat", "gitops", main)
    assert sorted(everything) == [
        "README.md",
        "manifests/apps/vision/rb.yaml",
        "manifests/clusters/ns.yaml",
    ]
    assert github.read_tree("mlplat", "gitops", "main", "absent") == {}
    with pytest.raises(LookupError):
        github.read_tree("mlplat", "gitops", "nope", "")

    admin = github.check_token(ADMIN_TOKEN)
    assert admin is not None
    assert (admin.login, admin.site_admin, admin.orgs) == (ADMIN_LOGIN, True, ("mlplat",))
    assert github.check_token("ghp_unknown") is None
    assert github.can_read(REVIEWER_TOKEN, "mlplat", "gitops")
