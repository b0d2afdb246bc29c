"""Kubeconfigs for people and kubectl: a cluster through its membership's Connect Gateway."""

from __future__ import annotations

import base64
import urllib.request
from typing import Any

from mlplat.k8s.connection import SANDBOX_TOKEN, gateway_url
from mlplat.target import Target

SANDBOX_CA_PATH = "/sandbox/ca.pem"


def kubeconfig(target: Target, project_number: str, membership: str) -> dict[str, Any]:
    """On Google: the gateway URL with gcloud's auth plugin, as `gcloud container fleet
    memberships get-credentials` writes it. On the sandbox: its HTTPS gateway, CA and token
    (kubectl sends tokens only over TLS)."""
    name = f"connectgateway_{project_number}_global_{membership}"
    server = gateway_url(target, project_number, membership)
    cluster: dict[str, Any] = {"server": server}
    user: dict[str, Any]
    if target.is_sandbox:
        base = str(target.endpoint("connectgateway"))
        with urllib.request.urlopen(base + SANDBOX_CA_PATH, timeout=10) as response:
            ca = response.read()
        cluster = {
            "server": server.replace("http://", "https://", 1),
            "certificate-authority-data": base64.b64encode(ca).decode(),
        }
        user = {"token": SANDBOX_TOKEN}
    else:
        user = {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": "gke-gcloud-auth-plugin",
                "installHint": "Install gke-gcloud-auth-plugin (gcloud components install)",
                "provideClusterInfo": True,
                "interactiveMode": "IfAvailable",
            }
        }
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    }
