"""Kubeconfigs that reach a sandbox cluster through the Connect Gateway, as gcloud writes them.

Use the gateway's https URL with its CA for kubectl: client-go sends bearer tokens only over TLS.
The Python client sends them over plain http too.
"""

from __future__ import annotations

import base64
from typing import Any


def kubeconfig(
    gateway_url: str,
    project_number: str,
    membership: str,
    token: str,
    user_name: str,
    *,
    ca_pem: str = "",
) -> dict[str, Any]:
    """A kubeconfig (for kubectl or `kubernetes.config`) for one membership and bearer token."""
    name = f"connectgateway_{project_number}_global_{membership}"
    server = (
        f"{gateway_url.rstrip('/')}/v1/projects/{project_number}/locations/global/"
        f"gkeMemberships/{membership}"
    )
    cluster: dict[str, Any] = {"server": server}
    if server.startswith("https://"):
        if ca_pem:
            cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
        else:
            cluster["insecure-skip-tls-verify"] = True
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": cluster}],
        "users": [{"name": user_name, "user": {"token": token}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": user_name, "namespace": "default"}}
        ],
        "current-context": name,
        "preferences": {},
    }
