"""Teams in the drift check: read by listing, so a converged check makes the same calls with
one team more; each team's identity and credentials changed out of band are found exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from kubernetes import client

from flows.onboard_team import onboard_team
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, drift_check
from tests.flows.platform_clients import (
    account_policy,
    delete_service_account,
    kube,
    project_id,
)

ENV = "dev"


def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "infra_specs"
    shutil.copytree(REFERENCE, spec)
    return spec


def _add_team(spec: Path, name: str) -> None:
    team = yaml.safe_load((spec / "teams" / "vision.yaml").read_text())
    team.update(
        name=name,
        environments=[ENV],
        members={"admin": {"users": [f"lead@{name}.example.com"]}},
        notebook={"enabled": False},
    )
    (spec / "teams" / f"{name}.yaml").write_text(yaml.safe_dump(team, sort_keys=False))


def _reads(sandbox: Sandbox) -> dict[str, int]:
    methods = admin(sandbox, "GET", "/counters")["methods"]
    assert not any(m["writes"] for m in methods.values()), "a drift check never writes"
    return {name: m["reads"] for name, m in methods.items() if m["reads"]}


def _counted_check(sandbox: Sandbox, spec: Path) -> dict[str, int]:
    admin(sandbox, "POST", "/counters/reset")
    assert drift_check(sandbox, spec_dir=spec) == ("Completed", [])
    return _reads(sandbox)


def _clear_policy(sandbox: Sandbox, account_id: str) -> None:
    project = project_id(ENV)
    policy = account_policy(sandbox, ENV, account_id)
    response = AuthorizedSession(AnonymousCredentials()).post(  # type: ignore[no-untyped-call]
        f"{sandbox.url('iam')}/v1/projects/{project}/serviceAccounts/"
        f"{account_id}@{project}.iam.gserviceaccount.com:setIamPolicy",
        json={"policy": {"etag": policy.get("etag"), "bindings": []}},
    )
    assert response.status_code == 200, response.text


@pytest.mark.provisioned
def test_a_converged_check_reads_the_same_with_one_team_more(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = _spec(tmp_path)
    where = {"spec_dir": str(spec), "endpoints": str(sandbox.endpoints_path)}
    # This process has not met the restored sandbox yet: a first check fills what mlplat keeps
    # per target (as the provisioning run would have), so that both counted checks start warm.
    assert drift_check(sandbox, spec_dir=spec) == ("Completed", [])
    two_teams = _counted_check(sandbox, spec)

    _add_team(spec, "speech")
    onboard_team(ENV, "speech", **where)
    three_teams = _counted_check(sandbox, spec)

    # Discovery (the server's version with it) is shared by every client of the cluster in the
    # process: the first counted check may load a group the warm-up check had not, and the
    # second then finds it loaded.
    discovery = ("k8s.get.discovery", "k8s.get.version")
    for kind in discovery:
        assert three_teams.get(kind, 0) <= two_teams.get(kind, 0)
    assert {k: n for k, n in three_teams.items() if k not in discovery} == {
        k: n for k, n in two_teams.items() if k not in discovery
    }
    # Only the node account is read on its own; the teams' come from one list and one search.
    assert three_teams["iam.projects.serviceAccounts.get"] == 1
    assert "iam.projects.serviceAccounts.getIamPolicy" not in three_teams
    assert three_teams["iam.projects.serviceAccounts.list"] == 1
    assert three_teams["cloudasset.searchAllIamPolicies"] == 1
    # A branch without KubeRay files from before GKE's add-on needs no CRD read at all.
    assert "k8s.get.customresourcedefinitions" not in three_teams
    assert "k8s.list.customresourcedefinitions" not in three_teams
    # Every git-creds, root-sync's included, comes from one field-selected list.
    assert "k8s.get.secrets" not in three_teams
    assert three_teams["k8s.list.secrets"] == 1


@pytest.mark.provisioned
def test_team_identity_and_credentials_changed_out_of_band_are_found(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    spec = _spec(tmp_path)
    vision = f"mlp-{ENV}-vision@{project_id(ENV)}.iam.gserviceaccount.com"
    nlp = f"mlp-{ENV}-nlp@{project_id(ENV)}.iam.gserviceaccount.com"
    _clear_policy(sandbox, f"mlp-{ENV}-vision")
    delete_service_account(sandbox, ENV, f"mlp-{ENV}-nlp")
    client.CoreV1Api(kube(sandbox, ENV)).delete_namespaced_secret("git-creds", "vision")

    name, findings = drift_check(sandbox, spec_dir=spec)
    assert name == "Drifted"
    assert sorted((f["resource"], f["drift"], f["field"]) for f in findings) == [
        (f"iam/service-account {nlp}", "missing", ""),
        (f"iam/service-account {vision}", "changed", "iamPolicy.roles/iam.workloadIdentityUser"),
        ("k8s/secret vision/git-creds", "missing", ""),
    ]

    name, findings = drift_check(sandbox, remediate=True, spec_dir=spec)
    assert (name, findings) == ("Completed", [])
