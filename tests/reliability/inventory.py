"""Everything a sandbox platform holds, read from the outside through the official clients
(google-cloud-*, IAM over REST, PyGithub, kubernetes through the Connect Gateway), as a
comparable snapshot: names and declared content, never volatile fields (numbers, etags,
timestamps, commit SHAs, the sandbox's ports). Lists keep duplicates, so two of anything shows."""

from __future__ import annotations

import base64
import hashlib
import tempfile
from pathlib import Path
from typing import Any

from google.auth.credentials import AnonymousCredentials
from google.auth.transport.requests import AuthorizedSession
from google.cloud import (
    compute_v1,
    container_v1,
    gkehub_v1,
    resourcemanager_v3,
    service_usage_v1,
)
from google.iam.v1 import iam_policy_pb2
from kubernetes import client
from kubernetes.dynamic import DynamicClient

from sandbox.cloud import Sandbox
from tests.flows import platform_clients
from tests.flows.platform_clients import ADMIN, repo
from tests.sandbox.conftest import client_kwargs

REGION = "us-central1"
ORG = "ml-platform-org"
# Objects the cluster makes for itself, whose names or number vary from run to run (nodes:
# the autoscaler adds them as pods wait, named after the instance group of each cluster).
VOLATILE_KINDS = frozenset(
    {"Event", "Lease", "Pod", "ReplicaSet", "EndpointSlice", "Endpoints", "Node", "Job"}
)


def _kw(sandbox: Sandbox, api: str) -> dict[str, Any]:
    return client_kwargs(sandbox.url(api))


def _rest(sandbox: Sandbox, method: str, path: str) -> dict[str, Any]:
    session = AuthorizedSession(AnonymousCredentials())  # type: ignore[no-untyped-call]
    response = session.request(method, f"{sandbox.url('iam')}{path}")
    assert response.status_code == 200, f"{method} {path}: {response.status_code} {response.text}"
    body: dict[str, Any] = response.json()
    return body


def _policy(sandbox: Sandbox, project: str) -> Any:
    projects = resourcemanager_v3.ProjectsClient(**_kw(sandbox, "cloudresourcemanager"))
    return projects.get_iam_policy(
        request=iam_policy_pb2.GetIamPolicyRequest(resource=f"projects/{project}")
    )


def leftovers(sandbox: Sandbox, project: str, region: str = REGION) -> dict[str, Any]:
    """Everything of ours that any Google API or the GitOps repo still lists for `project`
    (what a teardown must leave empty)."""
    projects = resourcemanager_v3.ProjectsClient(**_kw(sandbox, "cloudresourcemanager"))
    found = _project(sandbox, projects.get_project(name=f"projects/{project}"), region)
    return {
        "clusters": [key.rsplit("/", 1)[1] for key in found["clusters"]],
        "memberships": found["memberships"],
        "features": found["features"],
        "networks": found["networks"],
        "subnetworks": [subnet[0] for subnet in found["subnetworks"]],
        "routers": [router[0] for router in found["routers"]],
        "reservations": [key.rsplit("/", 1)[1] for key in found["reservations"]],
        "service accounts": list(found["service accounts"]),
        "service-account members": [
            m
            for members in found["iam"].values()
            for m in members
            if "iam.gserviceaccount.com" in m
        ],
        "branches": [b.name for b in repo(sandbox).get_branches()],
    }


def _project(sandbox: Sandbox, project: resourcemanager_v3.Project, region: str) -> dict[str, Any]:
    """One project: its state and labels, then every API's resources in it."""
    pid = project.project_id
    gke = container_v1.ClusterManagerClient(**_kw(sandbox, "container"))
    hub = gkehub_v1.GkeHubClient(**_kw(sandbox, "gkehub"))
    compute = _kw(sandbox, "compute")
    usage = service_usage_v1.ServiceUsageClient(**_kw(sandbox, "serviceusage"))
    enabled = usage.list_services(
        request=service_usage_v1.ListServicesRequest(
            parent=f"projects/{project.name.split('/')[1]}", filter="state:ENABLED"
        )
    )
    policy = _policy(sandbox, pid)
    accounts = _rest(sandbox, "GET", f"/v1/projects/{pid}/serviceAccounts").get("accounts", [])
    clusters = gke.list_clusters(parent=f"projects/{pid}/locations/-").clusters
    routers = compute_v1.RoutersClient(**compute).list(project=pid, region=region)
    reservations = compute_v1.ReservationsClient(**compute).aggregated_list(project=pid)
    return {
        "state": project.state.name,
        "parent": project.parent,
        "labels": dict(sorted(project.labels.items())),
        "services": sorted(s.config.name for s in enabled),
        "networks": sorted(n.name for n in compute_v1.NetworksClient(**compute).list(project=pid)),
        "subnetworks": sorted(
            (s.name, s.ip_cidr_range, *sorted(r.range_name for r in s.secondary_ip_ranges))
            for s in compute_v1.SubnetworksClient(**compute).list(project=pid, region=region)
        ),
        "routers": sorted((r.name, *sorted(n.name for n in r.nats)) for r in routers),
        "reservations": sorted(
            f"{zone}/{r.name}" for zone, scoped in reservations for r in scoped.reservations
        ),
        "clusters": {
            f"{c.location}/{c.name}": {
                "status": c.status.name,
                "node pools": sorted(
                    p.name for p in gke.list_node_pools(parent=_cluster_path(c, pid)).node_pools
                ),
            }
            for c in clusters
        },
        "memberships": sorted(
            m.name.rsplit("/", 1)[1]
            for m in hub.list_memberships(parent=f"projects/{pid}/locations/-")
        ),
        "features": sorted(
            f.name.rsplit("/", 1)[1]
            for f in hub.list_features(parent=f"projects/{pid}/locations/global")
        ),
        "service accounts": {
            a["email"]: _bindings(
                _rest(sandbox, "POST", f"/v1/{a['name']}:getIamPolicy").get("bindings", [])
            )
            for a in accounts
        },
        "iam": _bindings([{"role": b.role, "members": list(b.members)} for b in policy.bindings]),
    }


def _cluster_path(cluster: container_v1.Cluster, project: str) -> str:
    return f"projects/{project}/locations/{cluster.location}/clusters/{cluster.name}"


def _bindings(bindings: list[dict[str, Any]]) -> dict[str, list[str]]:
    """role → members, sorted; a role bound twice shows as its members twice."""
    roles: dict[str, list[str]] = {}
    for binding in bindings:
        roles.setdefault(binding["role"], []).extend(binding.get("members", []))
    return {role: sorted(members) for role, members in sorted(roles.items())}


def _github(sandbox: Sandbox) -> dict[str, Any]:
    """Every repository of the organization: branches with their files (path → blob SHA,
    which is the content's hash), protection, and pull requests."""
    gh = platform_clients.github(sandbox)
    repos: dict[str, Any] = {}
    for found in gh.get_organization(ORG).get_repos():
        branches = {}
        for branch in found.get_branches():
            tree = found.get_git_tree(branch.commit.sha, recursive=True).tree
            branches[branch.name] = {
                "protected": branch.protected,
                "files": {
                    e.path: _content_hash(sandbox, found.get_git_blob(e.sha).content)
                    for e in tree
                    if e.type == "blob"
                },
            }
        repos[found.name] = {
            "branches": branches,
            "pulls": sorted(
                (p.base.ref, p.head.ref, p.state, p.title) for p in found.get_pulls(state="all")
            ),
        }
    return repos


def _content_hash(sandbox: Sandbox, encoded: str) -> str:
    """A file's content hash, with this sandbox's URLs (their ports vary) made generic."""
    text = base64.b64decode(encoded).decode(errors="replace")
    for name, url in sandbox.endpoints().get("components", {}).items():
        text = text.replace(url, f"<{name}>")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _kubernetes(sandbox: Sandbox, project: resourcemanager_v3.Project) -> dict[str, Any]:
    """Every listable object of every cluster registered in the project's fleet, through its
    Connect Gateway path: kind (group/version/kind) → sorted `namespace/name`."""
    hub = gkehub_v1.GkeHubClient(**_kw(sandbox, "gkehub"))
    number = project.name.split("/")[1]
    clusters = {}
    for membership in hub.list_memberships(parent=f"{project.name}/locations/-"):
        name = membership.name.rsplit("/", 1)[1]
        configuration = client.Configuration()
        configuration.host = (
            f"{sandbox.url('connectgateway')}/v1/projects/{number}/locations/global/"
            f"gkeMemberships/{name}"
        )
        configuration.api_key = {"authorization": f"Bearer {ADMIN}"}
        with tempfile.TemporaryDirectory() as cache:
            api = DynamicClient(
                client.ApiClient(configuration), cache_file=str(Path(cache) / "discovery.json")
            )
            clusters[name] = _objects(api)
    return clusters


def _objects(api: DynamicClient) -> dict[str, list[str]]:
    core = api.request("GET", "/api").to_dict()
    paths = [f"/api/{v}" for v in core.get("versions", [])]
    for group in api.request("GET", "/apis").to_dict().get("groups", []):
        paths.append(f"/apis/{group['preferredVersion']['groupVersion']}")
    objects: dict[str, list[str]] = {}
    for path in paths:
        listing = api.request("GET", path).to_dict()
        for resource in listing.get("resources", []):
            if "/" in resource["name"] or "list" not in resource.get("verbs", []):
                continue
            if resource["kind"] in VOLATILE_KINDS:
                continue
            items = api.request("GET", f"{path}/{resource['name']}").to_dict().get("items", [])
            names = sorted(
                f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}".lstrip("/")
                for i in items
            )
            if names:
                objects[f"{listing['groupVersion']}/{resource['kind']}"] = names
    return dict(sorted(objects.items()))


def inventory(sandbox: Sandbox, region: str = REGION) -> dict[str, Any]:
    """The whole platform: every project with every API's resources in it, the GitHub
    organization's repositories, and the Kubernetes objects of every fleet cluster."""
    projects = list(
        resourcemanager_v3.ProjectsClient(**_kw(sandbox, "cloudresourcemanager")).search_projects(
            query=""
        )
    )
    return {
        "project ids": sorted(p.project_id for p in projects),
        "projects": {p.project_id: _project(sandbox, p, region) for p in projects},
        "github": _github(sandbox),
        "kubernetes": {p.project_id: _kubernetes(sandbox, p) for p in projects},
    }


def differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, one line per leaf (for an assertion message)."""
    if isinstance(got, dict) and isinstance(want, dict):
        found = []
        for key in sorted(set(got) | set(want), key=str):
            where = f"{path}/{key}"
            if key not in got:
                found.append(f"{where}: missing")
            elif key not in want:
                found.append(f"{where}: extra {got[key]!r}"[:300])
            else:
                found.extend(differences(got[key], want[key], where))
        return found
    if got != want:
        return [f"{path}: {got!r} != {want!r}"[:600]]
    return []
