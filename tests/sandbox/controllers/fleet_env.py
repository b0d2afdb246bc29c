"""A sandbox with a GKE cluster registered in the fleet, Config Sync and Policy Controller asked
for through GKE Hub, a GitOps repository on the sandbox GitHub, and clients for all of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from github import Auth, Github, InputGitTreeElement
from github.Repository import Repository
from google.api_core.retry import Retry
from google.cloud import gkehub_v1
from google.cloud.gkehub_v1 import configmanagement_v1 as cm
from google.protobuf import field_mask_pb2
from kubernetes import client, config

from sandbox.cloud import Sandbox
from sandbox.controllers import Controllers
from sandbox.github import ADMIN_TOKEN, GitHub
from sandbox.k8s import Gateway, kubeconfig
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

T = TypeVar("T")
POLL = Retry(initial=0.02, maximum=0.1, multiplier=2, timeout=10)
MEMBERSHIP = "ml-dev"
BRANCH = "dev"
POLICY_DIR = "manifests/clusters"
SYSTEM = "config-management-system"
CS = ("configsync.gke.io", "v1beta1")

# A team's RepoSync (tests of RepoSyncs and of snapshots).
APPS = "manifests/apps/team-b"
RECONCILER = "ns-reconciler-team-b"


def team_syncs(repo_url: str) -> str:
    """Namespaces team-b and team-c, each with a RepoSync reading its folder of the repository
    at `repo_url` (team-b's reconciler has no RoleBinding yet: BINDING gives it one)."""
    return f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: team-b}}
---
apiVersion: configsync.gke.io/v1beta1
kind: RepoSync
metadata: {{name: repo-sync, namespace: team-b}}
spec:
  sourceFormat: unstructured
  git:
    repo: {repo_url}
    branch: {BRANCH}
    dir: {APPS}
    auth: token
    secretRef: {{name: git-creds}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: team-c}}
---
apiVersion: configsync.gke.io/v1beta1
kind: RepoSync
metadata: {{name: ml, namespace: team-c}}
spec:
  git:
    repo: {repo_url}
    branch: {BRANCH}
    dir: manifests/apps/team-c
    auth: token
    secretRef: {{name: git-creds}}
"""


BINDING = f"""\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: repo-sync-edit, namespace: team-b}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}}
subjects:
- {{kind: ServiceAccount, name: {RECONCILER}, namespace: {SYSTEM}}}
"""
APP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  replicas: '2'\n"


def eventually(check: Callable[[], T], what: str, timeout: float = 15.0) -> T:
    """Poll check() until it returns something truthy (404s count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except client.ApiException as exc:
            if exc.status != 404:
                raise
            last = exc
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def config_management_spec(repo_url: str) -> gkehub_v1.MembershipFeatureSpec:
    """What the platform asks GKE Hub for: Config Sync from the env branch, Policy Controller."""
    return gkehub_v1.MembershipFeatureSpec(
        configmanagement=cm.MembershipSpec(
            config_sync=cm.ConfigSync(
                enabled=True,
                source_format="unstructured",
                git=cm.GitConfig(
                    sync_repo=repo_url,
                    sync_branch=BRANCH,
                    policy_dir=POLICY_DIR,
                    secret_type="token",
                ),
            ),
            policy_controller=cm.PolicyController(enabled=True, template_library_installed=True),
            version="1.20.1",
        )
    )


@dataclass
class Fleet:
    """One running sandbox with the platform cluster `ml-dev` in the fleet."""

    sandbox: Sandbox
    project: str
    number: str
    repo: Repository
    api: client.ApiClient
    clients: list[client.ApiClient] = field(default_factory=list)

    @property
    def github(self) -> GitHub:
        found = self.sandbox.component("github")
        assert isinstance(found, GitHub)
        return found

    @property
    def gateway(self) -> Gateway:
        found = self.sandbox.component("connectgateway")
        assert isinstance(found, Gateway)
        return found

    @property
    def controllers(self) -> Controllers:
        found = self.sandbox.component("controllers")
        assert isinstance(found, Controllers)
        return found

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    @property
    def hub(self) -> gkehub_v1.GkeHubClient:
        return gke.hub(self.sandbox)

    def push(self, files: dict[str, str | None], message: str = "change") -> str:
        """One commit on the env branch writing (or, None, deleting) files; its SHA."""
        ref = self.repo.get_git_ref(f"heads/{BRANCH}")
        base = self.repo.get_git_commit(ref.object.sha)
        elements = [
            InputGitTreeElement(path, "100644", "blob", content=body)
            if body is not None
            else InputGitTreeElement(path, "100644", "blob", sha=None)
            for path, body in files.items()
        ]
        tree = self.repo.create_git_tree(elements, base.tree)
        commit = self.repo.create_git_commit(message, tree, [base])
        ref.edit(commit.sha)
        return str(commit.sha)

    def git_creds(self, namespace: str, token: str = ADMIN_TOKEN) -> None:
        """Write (or replace) the `git-creds` Secret of a namespace (once it exists)."""
        eventually(lambda: self.core.read_namespace(namespace), f"namespace {namespace}")
        body = {
            "metadata": {"name": "git-creds"},
            "stringData": {"username": "mlplat-bot", "token": token},
        }
        try:
            self.core.create_namespaced_secret(namespace, body)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            self.core.replace_namespaced_secret("git-creds", namespace, body)

    def sync(
        self, namespace: str = SYSTEM, name: str = "root-sync", kind: str = "rootsyncs"
    ) -> Any:
        """A RootSync (default: the fleet's root-sync) or, kind `reposyncs`, a RepoSync."""
        return self.custom.get_namespaced_custom_object(*CS, namespace, kind, name)

    def synced(
        self, commit: str, namespace: str = SYSTEM, name: str = "root-sync", kind: str = "rootsyncs"
    ) -> Any:
        """Wait until the sync reports `commit` as lastSyncedCommit; its status."""

        def check() -> Any:
            status = self.sync(namespace, name, kind).get("status") or {}
            return status if status.get("lastSyncedCommit") == commit else None

        return eventually(check, f"{kind} {namespace}/{name} synced at {commit[:8]}")

    def hub_state(self) -> Any:
        """The fleet's configmanagement state of the membership."""
        feature = self.hub.get_feature(
            name=f"projects/{self.project}/locations/global/features/configmanagement"
        )
        key = f"projects/{self.number}/locations/global/memberships/{MEMBERSHIP}"
        return feature.membership_states[key]

    def kubectl(
        self, tmp: Path, *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """kubectl as the sandbox admin through the Connect Gateway (skips without kubectl)."""
        found = shutil.which("kubectl")
        if found is None:
            pytest.skip("kubectl is not installed")
        gateway = self.gateway
        config = kubeconfig(
            gateway.https_url,
            self.number,
            MEMBERSHIP,
            "sandbox-admin",
            "admin",
            ca_pem=gateway.ca_pem,
        )
        path = tmp / "kubeconfig"
        path.write_text(yaml.safe_dump(config))
        env = {**os.environ, "KUBECONFIG": str(path), "HOME": str(tmp)}
        return _run([found, "--request-timeout=20s", *args], env, stdin)

    def gcloud(self, tmp: Path, *args: str) -> Any:
        """gcloud's JSON answer for a command on the fleet's project (skips without gcloud)."""
        if shutil.which("gcloud") is None:
            pytest.skip("gcloud is not installed")
        env = {
            **os.environ,
            "CLOUDSDK_CONFIG": str(tmp / "gcloud"),
            "CLOUDSDK_AUTH_DISABLE_CREDENTIALS": "true",
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
        }
        for api in ("gkehub", "cloudresourcemanager", "container"):
            env[f"CLOUDSDK_API_ENDPOINT_OVERRIDES_{api.upper()}"] = self.sandbox.url(api) + "/"
        done = _run(["gcloud", *args, "--project", self.project, "--format=json"], env, None)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def close(self) -> None:
        for api in [self.api, *self.clients]:
            api.close()
        self.sandbox.stop()


def _run(
    args: list[str], env: dict[str, str], stdin: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, env=env, timeout=90, check=False
    )


def start(state_dir: Path, project: str) -> Fleet:
    """Sandbox, project, cluster, membership, configmanagement spec, GitOps repository."""
    sandbox = Sandbox(state_dir, reuse_ports=True).start()
    clients = Clients(sandbox)
    gke.gke_project(clients, project)
    gke.create_cluster(sandbox, project, MEMBERSHIP)
    number = clients.projects.get_project(name=f"projects/{project}").name.split("/")[1]
    hub = gke.hub(sandbox)
    parent = f"projects/{project}/locations/global"
    cluster = f"projects/{project}/locations/{gke.REGION}/clusters/{MEMBERSHIP}"
    link = f"//container.googleapis.com/{cluster}"
    membership = gkehub_v1.Membership(
        endpoint=gkehub_v1.MembershipEndpoint(gke_cluster=gkehub_v1.GkeCluster(resource_link=link))
    )
    hub.create_membership(parent=parent, resource=membership, membership_id=MEMBERSHIP).result(
        timeout=10, polling=POLL
    )
    hub.create_feature(
        parent=parent, resource=gkehub_v1.Feature(), feature_id="configmanagement"
    ).result(timeout=10, polling=POLL)
    github = sandbox.component("github")
    assert isinstance(github, GitHub)
    repo = (
        Github(
            base_url=github.api_url,
            auth=Auth.Token(ADMIN_TOKEN),
            retry=None,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )
        .get_organization("mlplat")
        .create_repo("platform-config", auto_init=True, private=True)
    )
    repo.create_git_ref(f"refs/heads/{BRANCH}", repo.get_branch("main").commit.sha)
    spec = config_management_spec(f"{github.url}/mlplat/platform-config.git")
    hub.update_feature(
        name=f"{parent}/features/configmanagement",
        resource=gkehub_v1.Feature(membership_specs={f"{parent}/memberships/{MEMBERSHIP}": spec}),
        update_mask=field_mask_pb2.FieldMask(paths=["membership_specs"]),
    ).result(timeout=10, polling=POLL)
    gateway = sandbox.component("connectgateway")
    assert isinstance(gateway, Gateway)
    api = config.new_client_from_config_dict(
        kubeconfig(gateway.url, number, MEMBERSHIP, "sandbox-admin", "admin")
    )
    return Fleet(sandbox, project, number, repo, api)


def reopen(state_dir: Path, project: str) -> Fleet:
    """The sandbox of `start` started again on its state (ports reused, so URLs hold)."""
    return attach(Sandbox(state_dir, reuse_ports=True).start(), project)


def attach(sandbox: Sandbox, project: str) -> Fleet:
    """The Fleet of `start` on a started sandbox that holds its state."""
    number = Clients(sandbox).projects.get_project(name=f"projects/{project}").name.split("/")[1]
    github = sandbox.component("github")
    gateway = sandbox.component("connectgateway")
    assert isinstance(github, GitHub) and isinstance(gateway, Gateway)
    repo = Github(
        base_url=github.api_url,
        auth=Auth.Token(ADMIN_TOKEN),
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    ).get_repo("mlplat/platform-config")
    api = config.new_client_from_config_dict(
        kubeconfig(gateway.url, number, MEMBERSHIP, "sandbox-admin", "admin")
    )
    return Fleet(sandbox, project, number, repo, api)
