"""Where prod's branch protection binds administrators too, mlplat's pull request waits for a
reviewer's approval before it is merged and the change reaches the branch."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import yaml
from github import Auth, Github

from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from sandbox.github.component import GitHub
from tests.flows.conftest import REFERENCE
from tests.flows.platform_clients import repo
from tests.flows.test_approval import Background

REVIEWER_TOKEN = "ghp_sandboxReviewerRita00000000000000000"


def test_merge_waits_for_an_approving_review(sandbox: Sandbox, tmp_path: Path) -> None:
    spec = tmp_path / "infra_specs"
    shutil.copytree(REFERENCE, spec)
    where = {"spec_dir": str(spec), "endpoints": str(sandbox.endpoints_path)}
    provision_environment("prod", approved=True, **where)
    gitops = repo(sandbox)
    gitops.get_branch("prod").edit_protection(
        required_approving_review_count=1, enforce_admins=True
    )
    head = gitops.get_branch("prod").commit.sha

    vision = spec / "teams" / "vision.yaml"
    team = yaml.safe_load(vision.read_text())
    team["quota"]["pods"] = 250
    vision.write_text(yaml.safe_dump(team))
    run = Background(lambda: provision_environment("prod", approved=True, **where))

    deadline = time.monotonic() + 120
    pulls: list = []  # type: ignore[type-arg]
    while time.monotonic() < deadline and not pulls:
        pulls = list(gitops.get_pulls(state="open", base="prod"))
        time.sleep(0.3)
    assert pulls, "mlplat opened a pull request into prod"
    time.sleep(2)
    assert gitops.get_branch("prod").commit.sha == head, "nothing merged without a review"
    assert run.thread.is_alive(), "the run waits for the review"

    github = sandbox.component("github")
    assert isinstance(github, GitHub)
    github.create_user("rita", REVIEWER_TOKEN, orgs=["ml-platform-org"])
    reviewer = Github(base_url=github.api_url, auth=Auth.Token(REVIEWER_TOKEN), retry=None)
    reviewer.get_repo(gitops.full_name).get_pull(pulls[0].number).create_review(event="APPROVE")

    result = run.join()
    rows = {row["resource"]: row for row in result["rows"]}
    merged = gitops.get_pull(pulls[0].number)
    assert merged.merged
    assert rows["git/manifests prod"]["detail"] == (
        f"pull request #{merged.number} merged as {merged.merge_commit_sha[:12]}"
    )
    quota = gitops.get_contents("manifests/clusters/teams/vision.yaml", ref="prod")
    assert not isinstance(quota, list)
    assert "pods: '250'" in quota.decoded_content.decode()
