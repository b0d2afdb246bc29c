"""Fixtures: a Sandbox running the GitHub component, PyGithub clients and a git CLI against it."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from github import Auth, Github
from github.Repository import Repository

from sandbox.cloud import Sandbox
from sandbox.github import ADMIN_TOKEN, GitHub

REVIEWER_TOKEN = "ghp_sandboxReviewerToken000000000000000"
READER_TOKEN = "ghp_sandboxReaderToken00000000000000000"


@dataclass
class Hub:
    """A running sandbox with its GitHub component."""

    sandbox: Sandbox
    github: GitHub

    def client(self, token: str = ADMIN_TOKEN) -> Github:
        """PyGithub as the tool configures it against a local server."""
        return Github(
            base_url=self.github.api_url,
            auth=Auth.Token(token),
            retry=None,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )

    def raw(
        self, method: str, path: str, body: Any = None, token: str | None = ADMIN_TOKEN
    ) -> tuple[int, dict[str, str], Any]:
        """A bare HTTP call to the REST API: (status, headers, parsed JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.github.api_url + path, data=data, method=method)
        if token is not None:
            request.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, headers, text = response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            status, headers, text = exc.code, dict(exc.headers), exc.read()
        return status, headers, json.loads(text) if text else None

    def remote(self, repo: str, token: str = ADMIN_TOKEN) -> str:
        """An HTTP remote with the token as the basic-auth password."""
        host = self.github.url.removeprefix("http://")
        return f"http://x-access-token:{token}@{host}/{repo}.git"


def start(state: Path, rate_limit: int = 5000) -> Hub:
    """A sandbox with only the GitHub component (no Google APIs), instant latency."""
    github = GitHub(state, rate_limit=rate_limit)
    sandbox = Sandbox(state, latency="instant", apis=[], components=[github]).start()
    return Hub(sandbox, github)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A fresh sandbox with GitHub, a reviewer (org member) and a reader (outsider)."""
    running = start(tmp_path / "state")
    running.github.create_user("reviewer", REVIEWER_TOKEN, orgs=["mlplat"])
    running.github.create_user("reader", READER_TOKEN)
    try:
        yield running
    finally:
        running.sandbox.stop()


@pytest.fixture
def gitops(hub: Hub) -> Repository:
    """mlplat/gitops: auto-initialised, branches dev and prod, prod needing one approval."""
    repo = hub.client().get_organization("mlplat").create_repo("gitops", auto_init=True)
    head = repo.get_branch("main").commit.sha
    for branch in ("dev", "prod"):
        repo.create_git_ref(f"refs/heads/{branch}", head)
    repo.get_branch("prod").edit_protection(required_approving_review_count=1, enforce_admins=True)
    return repo


@dataclass
class GitCli:
    """The git CLI with its own HOME and no system or user configuration."""

    home: Path

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            "HOME": str(self.home),
            "PATH": os.environ["PATH"],
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_AUTHOR_NAME": "Dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "Dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
        }
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def ok(self, *args: str, cwd: Path | None = None) -> str:
        """Run git; fail the test with its output when it fails."""
        done = self(*args, cwd=cwd)
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout


@pytest.fixture
def git(tmp_path: Path) -> GitCli:
    """A git CLI isolated from the machine's configuration."""
    home = tmp_path / "home"
    home.mkdir()
    return GitCli(home)
