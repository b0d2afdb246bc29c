"""Official clients for checking a provisioned sandbox platform from the outside: Kubernetes
through the Connect Gateway (as admin or impersonating a user), the GitOps repo through
PyGithub, IAM over REST."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from github import Auth, Github
from github.Repository import Repository
from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import resourcemanager_v3
from kubernetes import client

from sandbox.cloud import Sandbox
from sandbox.github.component import ADMIN_TOKEN, GitHub
from tests.sandbox.conftest import client_kwargs

ADMIN = "sandbox-admin-tests"
REPO = "ml-platform-org/mlp-configsync"


def project_id(env: str) -> str:
    return f"mlp-{env}-a1b2"


def gateway_host(sandbox: Sandbox, env: str) -> str:
    projects = resourcemanager_v3.ProjectsClient(
        **client_kwargs(sandbox.url("cloudresourcemanager"))
    )
    number = projects.get_project(name=f"projects/{project_id(env)}").name.split("/")[1]
    return (
        f"{sandbox.url('connectgateway')}/v1/projects/{number}/locations/global/"
        f"gkeMemberships/mlp-{env}"
    )


def kube(
    sandbox: Sandbox, env: str, user: str | None = None, groups: tuple[str, ...] = ()
) -> client.ApiClient:
    """A Kubernetes client for the environment's cluster; with `user`, every request is made
    as that user (impersonation: the request is authorized as the user)."""
    configuration = client.Configuration()
    configuration.host = gateway_host(sandbox, env)
    configuration.api_key = {"authorization": f"Bearer {ADMIN}"}
    api = client.ApiClient(configuration)
    if user is not None:
        api.set_default_header("Impersonate-User", user)
    if groups:  # one header value here; the API server reads it as a list
        api.set_default_header("Impersonate-Group", ",".join(groups))
    return api


def status_of(call: Any) -> int:
    """The HTTP status a Kubernetes call answers (200 when it succeeds)."""
    try:
        call()
    except client.ApiException as exc:
        return int(exc.status)
    return 200


def github(sandbox: Sandbox) -> Github:
    """PyGithub on the sandbox's GitHub, as its admin bot, without client-side retries or pacing."""
    component = sandbox.component("github")
    assert isinstance(component, GitHub)
    return Github(
        base_url=component.api_url,
        auth=Auth.Token(ADMIN_TOKEN),
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def repo(sandbox: Sandbox) -> Repository:
    return github(sandbox).get_repo(REPO)


def service_account(sandbox: Sandbox, env: str, account_id: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of IAM's serviceAccounts.get."""
    project = project_id(env)
    response = AuthorizedSession(AnonymousCredentials()).get(  # type: ignore[no-untyped-call]
        f"{sandbox.url('iam')}/v1/projects/{project}/serviceAccounts/"
        f"{account_id}@{project}.iam.gserviceaccount.com"
    )
    return response.status_code, response.json()


def delete_service_account(sandbox: Sandbox, env: str, account_id: str) -> None:
    project = project_id(env)
    response = AuthorizedSession(AnonymousCredentials()).delete(  # type: ignore[no-untyped-call]
        f"{sandbox.url('iam')}/v1/projects/{project}/serviceAccounts/"
        f"{account_id}@{project}.iam.gserviceaccount.com"
    )
    assert response.status_code == 200, response.text


def account_policy(sandbox: Sandbox, env: str, account_id: str) -> dict[str, Any]:
    project = project_id(env)
    response = AuthorizedSession(AnonymousCredentials()).post(  # type: ignore[no-untyped-call]
        f"{sandbox.url('iam')}/v1/projects/{project}/serviceAccounts/"
        f"{account_id}@{project}.iam.gserviceaccount.com:getIamPolicy"
    )
    assert response.status_code == 200, response.text
    policy: dict[str, Any] = response.json()
    return policy


def kubectl(sandbox: Sandbox, env: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """kubectl against the environment's cluster, with a kubeconfig written by the sandbox."""
    binary = shutil.which("kubectl")
    assert binary is not None, "kubectl is part of the image"
    config = tmp / f"kubeconfig-{env}"
    if not config.exists():
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox",
                "kubeconfig",
                f"mlp-{env}",
                "--project",
                project_id(env),
                "--state-dir",
                str(sandbox.state_dir),
            ],
            check=False,
            capture_output=True,
            text=True,
        )
        assert made.returncode == 0, made.stderr
        config.write_text(made.stdout)
    return subprocess.run(
        [binary, "--kubeconfig", str(config), "--request-timeout=20s", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
