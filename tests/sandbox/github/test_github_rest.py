"""The GitHub REST subset through PyGithub: organizations, repositories, branches, git data,
contents, protection and rate limits."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from github import (
    BadCredentialsException,
    GithubException,
    InputGitTreeElement,
    RateLimitExceededException,
    UnknownObjectException,
)
from github.Repository import Repository

from sandbox.github import ADMIN_LOGIN
from tests.sandbox.github.conftest import READER_TOKEN, REVIEWER_TOKEN, Hub, start


def test_organization_and_repository_lifecycle(hub: Hub) -> None:
    gh = hub.client()
    assert gh.get_user().login == ADMIN_LOGIN
    org = gh.get_organization("mlplat")
    assert org.login == "mlplat"
    assert org.url.startswith(hub.github.api_url)

    repo = org.create_repo("gitops", description="GitOps", private=True, auto_init=True)
    assert (repo.full_name, repo.private, repo.default_branch) == ("mlplat/gitops", True, "main")
    assert repo.clone_url == f"{hub.github.url}/mlplat/gitops.git"
    readme = repo.get_contents("README.md")
    assert not isinstance(readme, list)
    assert readme.decoded_content == b"# gitops\n\nGitOps\n"

    with pytest.raises(GithubException) as duplicate:
        org.create_repo("gitops")
    assert duplicate.value.status == 422
    assert duplicate.value.data["errors"][0]["message"] == "name already exists on this account"

    repo.edit(description="Hydrated manifests", has_wiki=False)
    again = gh.get_repo("mlplat/gitops")
    assert (again.description, again.has_wiki, again.permissions.admin) == (
        "Hydrated manifests",
        False,
        True,
    )
    with pytest.raises(GithubException) as unknown_branch:
        repo.edit(default_branch="nope")
    assert unknown_branch.value.status == 422

    empty = gh.get_user().create_repo("scratch")
    with pytest.raises(GithubException) as no_commits:
        empty.get_contents("README.md")
    assert no_commits.value.status == 409
    empty.delete()
    with pytest.raises(UnknownObjectException):
        gh.get_repo(f"{ADMIN_LOGIN}/scratch")


def test_branches_default_branch_and_protection(gitops: Repository, hub: Hub) -> None:
    assert sorted(b.name for b in gitops.get_branches()) == ["dev", "main", "prod"]
    gitops.edit(default_branch="dev")
    assert hub.client().get_repo("mlplat/gitops").default_branch == "dev"

    prod = gitops.get_branch("prod")
    assert prod.protected
    rule = prod.get_protection()
    assert rule.required_pull_request_reviews.required_approving_review_count == 1
    assert rule.enforce_admins is True
    assert rule.allow_force_pushes is False

    dev = gitops.get_branch("dev")
    assert not dev.protected
    with pytest.raises(GithubException) as unprotected:
        dev.get_protection()
    assert (unprotected.value.status, unprotected.value.data["message"]) == (
        404,
        "Branch not protected",
    )
    prod.remove_protection()
    assert not gitops.get_branch("prod").protected

    # Only admins see and change protection.
    as_reviewer = hub.client(REVIEWER_TOKEN).get_repo("mlplat/gitops")
    with pytest.raises(GithubException) as forbidden:
        as_reviewer.get_branch("prod").edit_protection(required_approving_review_count=1)
    assert forbidden.value.status == 403


def test_multi_file_commit_through_git_data_api(gitops: Repository) -> None:
    dev = gitops.get_git_ref("heads/dev")
    parent = gitops.get_git_commit(dev.object.sha)
    blob = gitops.create_git_blob(base64.b64encode(b"kind: Namespace\n").decode(), "base64")
    tree = gitops.create_git_tree(
        [
            InputGitTreeElement("manifests/clusters/ns.yaml", "100644", "blob", sha=blob.sha),
            InputGitTreeElement("manifests/apps/quota.yaml", "100644", "blob", content="q\n"),
            InputGitTreeElement("README.md", "100644", "blob", sha=None),  # deleted
        ],
        base_tree=parent.tree,
    )
    assert sorted(e.path for e in tree.tree) == ["manifests"]
    commit = gitops.create_git_commit("Hydrate dev", tree, [parent])
    assert [p.sha for p in commit.parents] == [parent.sha]
    dev.edit(commit.sha)
    assert gitops.get_branch("dev").commit.sha == commit.sha

    listing = gitops.get_contents("manifests", ref="dev")
    assert isinstance(listing, list)
    assert sorted((c.path, c.type) for c in listing) == [
        ("manifests/apps", "dir"),
        ("manifests/clusters", "dir"),
    ]
    recursive = gitops.get_git_tree(commit.sha, recursive=True)
    paths = sorted(e.path for e in recursive.tree if e.type == "blob")
    assert paths == ["manifests/apps/quota.yaml", "manifests/clusters/ns.yaml"]
    with pytest.raises(UnknownObjectException):
        gitops.get_contents("README.md", ref="dev")
    history = gitops.get_commits(sha="dev", path="manifests/clusters")
    assert [c.sha for c in history] == [commit.sha]

    # Moving a ref backwards needs force.
    with pytest.raises(GithubException) as backwards:
        dev.edit(parent.sha)
    assert (backwards.value.status, backwards.value.data["message"]) == (
        422,
        "Update is not a fast forward",
    )
    dev.edit(parent.sha, force=True)
    assert gitops.get_branch("dev").commit.sha == parent.sha


def test_contents_create_update_delete_with_sha_checks(gitops: Repository, hub: Hub) -> None:
    created = gitops.create_file("teams/vision.yaml", "Add vision", "gpu: 1\n", branch="dev")
    first = created["content"]
    assert created["commit"].sha == gitops.get_branch("dev").commit.sha
    got = gitops.get_contents("teams/vision.yaml", ref="dev")
    assert not isinstance(got, list)
    assert (got.sha, got.decoded_content) == (first.sha, b"gpu: 1\n")

    updated = gitops.update_file("teams/vision.yaml", "More GPUs", "gpu: 2\n", first.sha, "dev")
    with pytest.raises(GithubException) as stale:
        gitops.update_file("teams/vision.yaml", "Stale", "gpu: 3\n", first.sha, branch="dev")
    assert stale.value.status == 409
    content = base64.b64encode(b"gpu: 4\n").decode()
    status, _, body = hub.raw(
        "PUT",
        "/repos/mlplat/gitops/contents/teams/vision.yaml",
        {"message": "No sha", "content": content, "branch": "dev"},
    )
    assert (status, body["message"]) == (422, 'Invalid request.\n\n"sha" wasn\'t supplied.')

    gitops.delete_file("teams/vision.yaml", "Remove", updated["content"].sha, branch="dev")
    with pytest.raises(UnknownObjectException):
        gitops.get_contents("teams/vision.yaml", ref="dev")


def test_protected_branch_refuses_direct_updates(gitops: Repository, hub: Hub) -> None:
    before = gitops.get_branch("prod").commit.sha
    with pytest.raises(GithubException) as contents:
        gitops.create_file("x.yaml", "Direct", "x\n", branch="prod")
    assert contents.value.status == 409
    assert contents.value.data["message"] == (
        "Could not update file: Changes must be made through a pull request."
    )
    dev = gitops.create_file("x.yaml", "On dev", "x\n", branch="dev")["commit"].sha
    with pytest.raises(GithubException) as ref_update:
        gitops.get_git_ref("heads/prod").edit(dev, force=True)
    assert ref_update.value.status == 422
    with pytest.raises(GithubException) as deletion:
        gitops.get_git_ref("heads/prod").delete()
    assert deletion.value.status == 422
    assert gitops.get_branch("prod").commit.sha == before

    # Without enforce_admins, admins bypass the rule; writers still cannot.
    gitops.get_branch("prod").edit_protection(
        required_approving_review_count=1, enforce_admins=False
    )
    as_reviewer = hub.client(REVIEWER_TOKEN).get_repo("mlplat/gitops")
    with pytest.raises(GithubException):
        as_reviewer.create_file("y.yaml", "Direct", "y\n", branch="prod")
    gitops.create_file("y.yaml", "Admin hotfix", "y\n", branch="prod")
    assert gitops.get_branch("prod").commit.sha != before


def test_pull_request_merges_only_with_an_approval(gitops: Repository, hub: Hub) -> None:
    gitops.create_file("manifests/apps/vision/ray.yaml", "Ray", "kind: RayCluster\n", branch="dev")
    pr = gitops.create_pull(base="prod", head="dev", title="Promote dev", body="")
    assert (pr.number, pr.state, pr.mergeable, pr.mergeable_state) == (1, "open", True, "blocked")
    with pytest.raises(GithubException) as duplicate:
        gitops.create_pull(base="prod", head="dev", title="Again")
    assert duplicate.value.status == 422

    with pytest.raises(GithubException) as refused:
        pr.merge()
    assert refused.value.status == 405
    assert refused.value.data["message"] == (
        "At least 1 approving review is required by reviewers with write access."
    )
    with pytest.raises(GithubException) as own:
        pr.create_review(event="APPROVE")
    assert own.value.status == 422
    assert own.value.data["errors"] == ["Can not approve your own pull request"]

    # An outsider's approval does not count; a change request blocks until approved again.
    hub.client(READER_TOKEN).get_repo("mlplat/gitops").get_pull(1).create_review(event="APPROVE")
    reviewer_pr = hub.client(REVIEWER_TOKEN).get_repo("mlplat/gitops").get_pull(1)
    reviewer_pr.create_review(event="REQUEST_CHANGES", body="not yet")
    with pytest.raises(GithubException):
        pr.merge()
    reviewer_pr.create_review(event="APPROVE")
    assert gitops.get_pull(1).mergeable_state == "clean"
    assert [r.state for r in pr.get_reviews()] == ["APPROVED", "CHANGES_REQUESTED", "APPROVED"]

    merged = pr.merge()
    assert merged.merged
    after = gitops.get_pull(1)
    assert (after.state, after.merged, after.merge_commit_sha) == ("closed", True, merged.sha)
    assert after.merged_by.login == ADMIN_LOGIN
    merge_commit = gitops.get_commit(merged.sha)
    assert [p.sha for p in merge_commit.parents] == [
        pr.base.sha,
        gitops.get_branch("dev").commit.sha,
    ]
    ray = gitops.get_contents("manifests/apps/vision/ray.yaml", ref="prod")
    assert not isinstance(ray, list)
    assert ray.decoded_content == b"kind: RayCluster\n"
    with pytest.raises(GithubException):
        after.merge()


def test_rate_limit_headers_and_overview(gitops: Repository, hub: Hub) -> None:
    gh = hub.client()
    overview = gh.get_rate_limit()
    assert overview.resources.core.limit == 5000
    assert 0 < overview.resources.core.remaining < 5000
    status, headers, _ = hub.raw("GET", "/repos/mlplat/gitops")
    assert status == 200
    assert headers["X-RateLimit-Limit"] == "5000"
    assert headers["X-RateLimit-Resource"] == "core"
    assert int(headers["X-RateLimit-Used"]) + int(headers["X-RateLimit-Remaining"]) == 5000
    assert int(headers["X-RateLimit-Reset"]) > 0
    status, headers, _ = hub.raw("GET", "/repos/mlplat/nothing")
    assert status == 404
    assert "X-RateLimit-Remaining" in headers


def test_primary_rate_limit_is_enforced(tmp_path: Path) -> None:
    running = start(tmp_path / "state", rate_limit=2)
    try:
        gh = running.client()
        gh.get_organization("mlplat")
        gh.get_organization("mlplat")
        with pytest.raises(RateLimitExceededException) as spent:
            gh.get_organization("mlplat")
        assert spent.value.status == 403
        assert gh.get_rate_limit().resources.core.remaining == 0
    finally:
        running.sandbox.stop()


def test_authentication_and_permissions(gitops: Repository, hub: Hub) -> None:
    status, headers, body = hub.raw("GET", "/user", token=None)
    assert (status, body["message"]) == (401, "Requires authentication")
    assert "X-RateLimit-Limit" in headers
    with pytest.raises(BadCredentialsException):
        hub.client("ghp_wrong").get_user().login  # noqa: B018

    reader = hub.client(READER_TOKEN)
    with pytest.raises(GithubException) as not_member:
        reader.get_organization("mlplat").create_repo("mine")
    assert not_member.value.status == 403
    hub.client().get_organization("mlplat").create_repo("secret", private=True)
    with pytest.raises(UnknownObjectException):
        reader.get_repo("mlplat/secret")
    with pytest.raises(UnknownObjectException):  # reads a public repository, cannot write it
        reader.get_repo("mlplat/gitops").create_file("z", "z", "z", branch="dev")


def test_secondary_rate_limit_fault_and_counters(gitops: Repository, hub: Hub) -> None:
    rt = hub.sandbox.rt
    rt.counters.reset()
    gitops.get_contents("README.md", ref="dev")
    gitops.get_branch("prod")
    snapshot = rt.counters.snapshot()
    assert snapshot["writes"] == 0
    methods = snapshot["methods"]
    assert methods["github.GET /repos/{owner}/{repo}/contents/{path+}"]["reads"] == 1
    assert methods["github.GET /repos/{owner}/{repo}/branches/{branch+}"]["reads"] == 1

    rt.faults.configure(
        {"rules": [{"api": "github", "method": "github.PUT *", "rate": 1.0, "code": 429}]}
    )
    with pytest.raises(RateLimitExceededException) as limited:
        gitops.create_file("f.yaml", "f", "f\n", branch="dev")
    assert limited.value.status == 403
    assert limited.value.data["message"].startswith("You have exceeded a secondary rate limit")
    assert (limited.value.headers or {})["retry-after"] == "1"
    gitops.get_branch("dev")  # reads still pass
    rt.faults.configure({})
    gitops.create_file("f.yaml", "f", "f\n", branch="dev")
    writes = rt.counters.snapshot()["methods"]["github.PUT /repos/{owner}/{repo}/contents/{path+}"]
    assert writes == {"count": 2, "reads": 0, "writes": 2, "errors": 1}
    assert rt.counters.requests(limit=3)[0]["fault"] == "http 429"


def test_site_admin_creates_an_organization(hub: Hub) -> None:
    """GitHub Enterprise's POST /admin/organizations (mlplat up makes the spec's owner)."""
    status, _, body = hub.raw("POST", "/admin/organizations", {"login": "acme-ml", "admin": "x"})
    assert status == 201 and body["login"] == "acme-ml"
    assert hub.client().get_organization("acme-ml").login == "acme-ml"
    status, _, _ = hub.raw("POST", "/admin/organizations", {"login": "acme-ml"})
    assert status == 422
    status, _, _ = hub.raw("POST", "/admin/organizations", {"login": "x2"}, token=READER_TOKEN)
    assert status == 403
