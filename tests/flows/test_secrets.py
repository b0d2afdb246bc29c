"""After a full run (provisioning with teams, a drift check, a team onboarding), the GitHub token
appears nowhere it must not: not in the Prefect database (runs, parameters, results, logs,
artifacts), not on the console, not in any Git object of the GitOps repository; it is only where
it belongs, in the clusters' `git-creds` Secrets."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

from flows.check_drift import check_drift
from flows.onboard_team import onboard_team
from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN
from tests.flows.conftest import REFERENCE

FORMS = (ADMIN_TOKEN.encode(), base64.b64encode(ADMIN_TOKEN.encode()))


def _leaks(data: bytes) -> list[bytes]:
    return [form for form in FORMS if form in data]


def test_the_token_reaches_no_log_artifact_result_or_git_object(
    sandbox: Sandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    where = {"spec_dir": str(REFERENCE), "endpoints": str(sandbox.endpoints_path)}
    result = provision_environment("dev", **where)
    check_drift("dev", return_state=True, **where)
    team = onboard_team("dev", "vision", **where)

    assert _leaks(repr(result).encode() + repr(team).encode()) == []
    out, err = capfd.readouterr()
    assert _leaks((out + err).encode()) == []

    database = Path(PREFECT_API_DATABASE_CONNECTION_URL.value().split(":///", 1)[1])
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert b"gke/cluster mlp-dev: create" in stored, "the run's logs were read"
    assert _leaks(stored) == []

    repos = sorted((sandbox.state_dir / "github" / "repos").glob("*/*.git"))
    assert repos, "the GitOps repository exists"
    for repo in repos:
        history = subprocess.run(
            ["git", "--git-dir", str(repo), "log", "--all", "-p", "--format=%H %B"],
            check=True,
            capture_output=True,
        ).stdout
        assert b"git-creds" in history, "the history was read (RepoSyncs name the Secret)"
        assert _leaks(history) == [], repo
