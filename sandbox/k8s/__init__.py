"""Kubernetes API servers for the sandbox's GKE clusters, reached through a Connect Gateway
(and at their DNS endpoints' stand-in paths).

- `Gateway(resolve, resolve_dns=…, version_of=…)`: the `connectgateway` component serving
  every cluster's API.
- `ClusterRegistry(rt)`: create/delete clusters, bearer tokens.
- `ClusterApi(rt, cluster_key)`: in-process client, change callbacks and admission for controllers.
- `kubeconfig(...)`: a kubeconfig for kubectl and the Python client.
"""

from sandbox.k8s.cluster_registry import ClusterRegistry
from sandbox.k8s.gateway import Gateway
from sandbox.k8s.hooks import Denied
from sandbox.k8s.identity import ADMIN_TOKEN_PREFIX, UserInfo
from sandbox.k8s.inprocess_client import ClusterApi
from sandbox.k8s.kubeconfig import kubeconfig

__all__ = [
    "ADMIN_TOKEN_PREFIX",
    "ClusterApi",
    "ClusterRegistry",
    "Denied",
    "Gateway",
    "UserInfo",
    "kubeconfig",
]
