"""Discovery documents: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.

The legacy (unaggregated) forms: kubectl and client-go fall back to them when the answer is not
an aggregated APIGroupDiscoveryList.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.k8s.kinds import SUBRESOURCE_VERBS, Kind, KindIndex
from sandbox.k8s.scale import has_scale

Obj = dict[str, Any]
KUBERNETES_VERSION = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.4-gke.1106000",
    "gitCommit": "5c6b5c3b2d8e6a1f0d9c7b4e2a1f3d5c6b7a8e9f",
    "gitTreeState": "clean",
    "buildDate": "2025-04-22T09:18:43Z",
    "goVersion": "go1.23.6 X:boringcrypto",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def version_info(gke_version: str | None = None) -> Obj:
    """GET /version: that of the cluster's control plane (`1.33.5-gke.1080000`) when known."""
    info = dict(KUBERNETES_VERSION)
    if gke_version:
        major, minor = gke_version.split(".")[:2]
        info.update(major=major, minor=minor, gitVersion=f"v{gke_version}")
    return info


def api_versions(server_address: str) -> Obj:
    """GET /api: the core group's versions."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, versions: list[str]) -> Obj:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_group_list(kinds: KindIndex) -> Obj:
    """GET /apis: every named group with its versions and preferred version."""
    groups = [_group(name, versions) for name, versions in kinds.group_versions().items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(kinds: KindIndex, group: str) -> Obj | None:
    """GET /apis/<group>, or None when the group is not served."""
    versions = kinds.group_versions().get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, versions)}


def _resource(kind: Kind) -> Obj:
    entry: Obj = {
        "name": kind.plural,
        "singularName": kind.singular,
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(kind.verbs),
        "storageVersionHash": hashlib.sha256(
            f"{kind.group}/{kind.version}/{kind.kind}".encode()
        ).hexdigest()[:12],
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.categories:
        entry["categories"] = list(kind.categories)
    return entry


def _status(kind: Kind) -> Obj:
    return {
        "name": f"{kind.plural}/status",
        "singularName": "",
        "namespaced": kind.namespaced,
        "kind": kind.kind,
        "verbs": list(SUBRESOURCE_VERBS),
    }


def _scale(kind: Kind) -> Obj:
    return {
        "name": f"{kind.plural}/scale",
        "singularName": "",
        "namespaced": kind.namespaced,
        "group": "autoscaling",
        "version": "v1",
        "kind": "Scale",
        "verbs": list(SUBRESOURCE_VERBS),
    }


def api_resource_list(kinds: KindIndex, group: str, version: str) -> Obj | None:
    """GET /api/v1 or /apis/<group>/<version>, or None when not served."""
    served = kinds.in_group_version(group, version)
    if not served:
        return None
    resources: list[Obj] = []
    for kind in served:
        resources.append(_resource(kind))
        if kind.status:
            resources.append(_status(kind))
        if has_scale(kind):
            resources.append(_scale(kind))
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
