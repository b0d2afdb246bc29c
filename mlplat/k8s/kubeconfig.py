"""Kubeconfigs for people and kubectl: a cluster through its membership's Connect Gateway, or
through its DNS-based control-plane endpoint."""

from __future__ import annotations

import base64
import copy
import urllib.error
import urllib.request
from typing import Any

from mlplat import retry
from mlplat.errors import TransientError
from mlplat.k8s.connection import SANDBOX_TOKEN, dns_endpoint_url, gateway_url
from mlplat.target import Target

SANDBOX_CA_PATH = "/sandbox/ca.pem"
_AUTH_PLUGIN = {
    "exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "gke-gcloud-auth-plugin",
        "installHint": "Install gke-gcloud-auth-plugin (gcloud components install)",
        "provideClusterInfo": True,
        "interactiveMode": "IfAvailable",
    }
}


def kubeconfig(target: Target, project_number: str, membership: str) -> dict[str, Any]:
    """On Google: the gateway URL with gcloud's auth plugin, as `gcloud container fleet
    memberships get-credentials` writes it. On the sandbox: its HTTPS gateway, CA and token
    (kubectl sends tokens only over TLS)."""
    name = f"connectgateway_{project_number}_global_{membership}"
    return _config(target, name, gateway_url(target, project_number, membership))


def dns_kubeconfig(target: Target, project: str, cluster_path: str, host: str) -> dict[str, Any]:
    """The cluster through its DNS endpoint `host`, as `gcloud container clusters
    get-credentials --dns-endpoint` writes it on Google (a public CA: no CA data); on the
    sandbox, its stand-in URL for the name, with its CA and token."""
    location, name = cluster_path.split("/locations/", 1)[1].split("/clusters/", 1)
    return _config(target, f"gke_{project}_{location}_{name}", dns_endpoint_url(target, host))


def _config(target: Target, name: str, server: str) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": server}
    user: dict[str, Any] = copy.deepcopy(_AUTH_PLUGIN)
    if target.is_sandbox:
        ca = retry.call(lambda: _sandbox_ca(str(target.endpoint("connectgateway"))))
        cluster = {
            "server": server.replace("http://", "https://", 1),
            "certificate-authority-data": base64.b64encode(ca).decode(),
        }
        user = {"token": SANDBOX_TOKEN}
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }


def _sandbox_ca(base: str) -> bytes:
    """The sandbox gateway's CA certificate; a 5xx or 429 is transient (retried as any call)."""
    try:
        with urllib.request.urlopen(base + SANDBOX_CA_PATH, timeout=10) as response:
            body: bytes = response.read()
            return body
    except urllib.error.HTTPError as exc:
        if exc.code >= 500 or exc.code == 429:
            raise TransientError(f"{base}{SANDBOX_CA_PATH}: HTTP {exc.code}") from exc
        raise
