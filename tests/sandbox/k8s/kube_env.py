"""A sandbox with the Connect Gateway and one cluster, and the official clients pointed at it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, dynamic

from sandbox.cloud import Sandbox
from sandbox.k8s import ClusterRegistry, Gateway, kubeconfig

PROJECT_NUMBER = "123"
MEMBERSHIP = "mlp-dev"
CLUSTER = "projects/ml-dev/locations/us-central1/clusters/ml-dev"
ADMIN_TOKEN = "sandbox-admin-test"


@dataclass
class KubeEnv:
    """One running sandbox, its gateway, and the cluster behind ("123", "mlp-dev")."""

    sandbox: Sandbox
    gateway: Gateway
    workdir: Path
    clients: list[client.ApiClient] = field(default_factory=list)

    @property
    def registry(self) -> ClusterRegistry:
        return ClusterRegistry(self.sandbox.rt)

    def kubeconfig(
        self, token: str = ADMIN_TOKEN, user: str = "admin", tls: bool = True
    ) -> dict[str, Any]:
        """A kubeconfig for the membership (https with the gateway CA, or plain http)."""
        url = self.gateway.https_url if tls else self.gateway.url
        ca = self.gateway.ca_pem if tls else ""
        return kubeconfig(url, PROJECT_NUMBER, MEMBERSHIP, token, user, ca_pem=ca)

    def api(self, token: str = ADMIN_TOKEN, tls: bool = False) -> client.ApiClient:
        """A Python ApiClient for a bearer token (http unless tls)."""
        api = config.new_client_from_config_dict(self.kubeconfig(token, tls=tls))
        self.clients.append(api)
        return api

    def dynamic(self, token: str = ADMIN_TOKEN) -> dynamic.DynamicClient:
        """A dynamic client (its discovery cache is per host, i.e. per port here)."""
        return dynamic.DynamicClient(self.api(token))

    def user(self, name: str, groups: tuple[str, ...] = ()) -> str:
        """Register a bearer token for a user on the cluster; returns the token."""
        token = "tok-" + hashlib.sha256(name.encode()).hexdigest()[:16]
        self.registry.register_token(CLUSTER, token, name, groups)
        return token

    def kubectl(
        self, *args: str, token: str = ADMIN_TOKEN, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl with a kubeconfig for token; HOME (and its caches) under workdir."""
        binary = shutil.which("kubectl")
        if binary is None:
            pytest.skip("kubectl is not installed")
        path = self.workdir / f"kubeconfig-{hashlib.sha256(token.encode()).hexdigest()[:8]}"
        path.write_text(yaml.safe_dump(self.kubeconfig(token)))
        env = {**os.environ, "KUBECONFIG": str(path), "HOME": str(self.workdir)}
        result = subprocess.run(
            [binary, "--request-timeout=20s", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def close(self) -> None:
        for api in self.clients:
            api.close()
        host = self.kubeconfig(tls=False)["clusters"][0]["cluster"]["server"]
        digest = hashlib.md5(host.encode()).hexdigest()
        (Path(tempfile.gettempdir()) / f"osrcp-{digest}.json").unlink(missing_ok=True)


def resolver(project_number: str, membership: str) -> str | None:
    """The membership the tests use, and no other."""
    return CLUSTER if (project_number, membership) == (PROJECT_NUMBER, MEMBERSHIP) else None


def start(state_dir: Path, workdir: Path) -> KubeEnv:
    """A started sandbox (no Google APIs) with the gateway and the cluster created."""
    gateway = Gateway(resolver)
    sandbox = Sandbox(state_dir, apis=[], components=[gateway]).start()
    ClusterRegistry(sandbox.rt).create(CLUSTER)
    return KubeEnv(sandbox, gateway, workdir)


@contextmanager
def running(tmp_path: Path) -> Iterator[KubeEnv]:
    """A started KubeEnv with its state and work directory under tmp_path, stopped after."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = start(tmp_path / "state", workdir)
    try:
        yield env
    finally:
        env.close()
        env.sandbox.stop()
