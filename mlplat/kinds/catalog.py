"""Every kind mlplat manages, from the project to a team's space, declared once.

Order matters twice: `KINDS` lists the kinds so that `dependency_order` keeps this order where
`after` leaves a choice (teardown walks it backwards), and each `updates` table lists its calls
in the order a run makes them."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlplat.kinds.descriptor import EVERY_FIELD, Descriptor, Scope, Update
from mlplat.render import cluster as render_cluster
from mlplat.render import fleet as render_fleet
from mlplat.render import network as render_network
from mlplat.render import project as render_project
from mlplat.render import repository as render_repository
from mlplat.render.desired import Desired
from mlplat.specs import naming

PROJECT = Descriptor(
    "project",
    render=lambda s: (render_project.project(s.platform, s.env),),
    immutable=("projectId", "parent"),
    updates={
        "displayName": Update("updateProject", "displayName"),
        "labels": Update("updateProject", "labels"),
    },
    children=("iam/service-account", "iam/project-member"),
)
BILLING = Descriptor(
    "project/billing",
    render=lambda s: (render_project.billing(s.platform, s.env),),
    updates={"billingAccountName": Update("updateProjectBillingInfo")},
    parent="project",
    after=("project",),
)


def _services(scope: Scope) -> tuple[Desired, ...]:
    body = {service: "ENABLED" for service in render_project.services()}
    return (Desired("project/services", scope.project, body),)


SERVICES = Descriptor(
    "project/services",
    render=_services,
    updates={EVERY_FIELD: Update("batchEnable")},  # never disabled
    parent="project",
    after=("project/billing",),
)


def _service_accounts(scope: Scope) -> tuple[Desired, ...]:
    """The node account, then each team's Workload Identity account (observed by address)."""
    accounts = [naming.node_service_account_id(scope.platform, scope.env)]
    accounts += [
        naming.team_service_account_id(scope.platform, scope.env, member)
        for member in scope.spec.teams_in(scope.env_name)
    ]
    return tuple(
        Desired("iam/service-account", naming.service_account_email(a, scope.project), {})
        for a in accounts
    )


SERVICE_ACCOUNT = Descriptor(
    "iam/service-account",
    render=_service_accounts,
    compared=False,
    # compared through the policies: the node account's project roles, a team's policy
    fields=("projectRoles", "iamPolicy"),
    updates={
        "projectRoles": Update("setIamPolicy", "bindings"),  # the project's policy
        "iamPolicy": Update("setIamPolicy", "bindings"),  # the account's own policy
    },
    parent="project",
    shown="displayName",
    after=("project/services",),
)
PROJECT_MEMBER = Descriptor("iam/project-member", parent="project")

NETWORK = Descriptor(
    "compute/network",
    render=lambda s: (render_network.network(s.platform, s.env),),
    immutable=("name", "autoCreateSubnetworks"),
    updates={"description": Update("patch"), "routingConfig": Update("patch")},
    parent="project",
    children=("compute/subnetwork",),
    after=("project/services",),
)
RESERVATION = Descriptor(
    "compute/reservation",
    render=lambda s: render_network.reservations(s.platform, s.env),
    immutable=("name", "specificReservation.instanceProperties", "specificReservationRequired"),
    updates={
        "description": Update("update", "description"),
        "specificReservation.count": Update("update", "specificReservation.count"),
    },
    parent="project",
    after=("project/services",),
)
SUBNETWORK = Descriptor(
    "compute/subnetwork",
    render=lambda s: (render_network.subnet(s.platform, s.env, s.project),),
    immutable=("name", "network", "ipCidrRange"),
    updates={
        "description": Update("patch"),
        "privateIpGoogleAccess": Update("patch"),
        "secondaryIpRanges": Update("patch"),
    },
    parent="compute/network",
    shown="ipCidrRange",
    after=("compute/network",),
)
ROUTER = Descriptor(
    "compute/router",
    render=lambda s: (render_network.router(s.platform, s.env, s.project),),
    immutable=("name", "network"),
    updates={"bgp": Update("patch"), "description": Update("patch"), "nats": Update("patch")},
    parent="compute/network",
    after=("compute/network", "compute/subnetwork"),  # its NAT serves the subnetworks' ranges
)

FEATURE = Descriptor(
    "fleet/feature",
    render=lambda s: tuple(
        render_fleet.feature(s.platform, s.project, feature)
        for feature in (
            render_fleet.CONFIG_MANAGEMENT_FEATURE,
            render_fleet.POLICY_CONTROLLER_FEATURE,
        )
    ),
    compared=False,  # created once; memberships get their specs later
    parent="project",
    after=("project/services",),
)

REPOSITORY = Descriptor("git/repository", compared=False)
BRANCH = Descriptor(
    "git/branch", compared=False, parent="git/repository", after=("git/repository",)
)
PROTECTION = Descriptor(
    "git/protection",
    fields=("required_approving_review_count",),
    updates={"required_approving_review_count": Update("updateBranchProtection")},
    parent="git/branch",
    after=("git/branch",),
)


def _files(scope: Scope) -> tuple[Desired, ...]:
    files = render_repository.environment_files(
        scope.spec, scope.env, project=scope.project, repo_url=scope.repo_url
    )
    branch = naming.config_sync_branch(scope.env)
    return (Desired("git/manifests", branch, {"files": dict(files)}),)


MANIFESTS = Descriptor(
    "git/manifests",
    render=_files,
    updates={EVERY_FIELD: Update("commit")},  # one commit writes every changed file
    parent="git/branch",
    after=("git/branch",),
)

CLUSTER_UPDATES = MappingProxyType(
    {
        # nested first: the rest of networkConfig is immutable
        "networkConfig.defaultEnablePrivateNodes": Update(
            "updateCluster", "desiredDefaultEnablePrivateNodes"
        ),
        "addonsConfig": Update("updateCluster", "desiredAddonsConfig"),
        "autoscaling": Update("updateCluster", "desiredClusterAutoscaling"),
        "controlPlaneEndpointsConfig": Update(
            "updateCluster", "desiredControlPlaneEndpointsConfig"
        ),
        "locations": Update("updateCluster", "desiredLocations"),
        "releaseChannel": Update("updateCluster", "desiredReleaseChannel"),
        "resourceLabels": Update("setResourceLabels"),
        "shieldedNodes": Update("updateCluster", "desiredShieldedNodes"),
        "workloadIdentityConfig": Update("updateCluster", "desiredWorkloadIdentityConfig"),
    }
)
CLUSTER = Descriptor(
    "gke/cluster",
    render=lambda s: (render_cluster.cluster(s.platform, s.env, s.project),),
    immutable=(
        "name",
        "location",
        "network",
        "subnetwork",
        "privateClusterConfig",
        "ipAllocationPolicy",
        "networkConfig.datapathProvider",
    ),
    updates=CLUSTER_UPDATES,
    parent="project",
    children=("gke/node-pool", "k8s/Namespace", "k8s/RoleBinding"),
    after=("compute/subnetwork", "iam/service-account"),
)
NODE_POOL = Descriptor(
    "gke/node-pool",
    render=lambda s: render_cluster.every_pool(s.platform, s.env, s.project),
    immutable=(
        "name",
        "config.machineType",
        "config.accelerators",
        "config.spot",
        "config.reservationAffinity",
        "config.serviceAccount",
        "config.oauthScopes",
        "config.shieldedInstanceConfig",
    ),
    updates={
        "autoscaling": Update("setAutoscaling", "autoscaling"),
        "config.labels": Update("updateNodePool", "labels", wrapper="labels"),
        "config.resourceLabels": Update("updateNodePool", "resourceLabels", wrapper="labels"),
        "config.taints": Update("updateNodePool", "taints", wrapper="taints"),
        "config.workloadMetadataConfig": Update("updateNodePool", "workloadMetadataConfig"),
        "management": Update("setManagement", "management"),
    },
    parent="gke/cluster",
    shown="status",
    after=("gke/cluster", "compute/reservation"),
)
MEMBERSHIP = Descriptor(
    "fleet/membership",
    render=lambda s: (render_fleet.membership(s.platform, s.env, s.project),),
    immutable=("endpoint.gkeCluster.resourceLink",),
    updates={"labels": Update("patch", "labels")},
    parent="project",
    after=("gke/cluster",),
)
CONFIG_SYNC = Descriptor(
    "fleet/configmanagement",
    render=lambda s: (render_fleet.config_management_spec(s.platform, s.env, s.repo_url),),
    updates={EVERY_FIELD: Update("patch", "membershipSpecs")},  # the whole spec is sent
    parent="fleet/feature",
    after=("fleet/membership", "fleet/feature", "git/manifests"),
)
POLICY_CONTROLLER = Descriptor(
    "fleet/policycontroller",
    render=lambda s: (render_fleet.policy_controller_spec(s.platform, s.env),),
    updates={EVERY_FIELD: Update("patch", "membershipSpecs")},
    parent="fleet/feature",
    after=("fleet/membership", "fleet/feature"),
)
GIT_CREDS = Descriptor(
    "k8s/secret",
    fields=("data",),
    updates={"data": Update("replace")},
    parent="gke/cluster",
    after=("fleet/membership",),
)
# The Kubernetes objects of the platform and of each team's space reach the cluster through
# Git: declared in git/manifests (one commit changes them), read back from the cluster.


def _objects(scope: Scope) -> tuple[Desired, ...]:
    documents = render_repository.environment_documents(
        scope.spec, scope.env, project=scope.project, repo_url=scope.repo_url
    )
    return tuple(
        Desired(f"k8s/{doc['kind']}", _object_name(doc), doc)
        for docs in documents.values()
        for doc in docs
    )


def _object_name(doc: Mapping[str, Any]) -> str:
    meta = doc["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


K8S_OBJECT = Descriptor(
    "k8s/object",
    render=_objects,
    updates={EVERY_FIELD: Update("commit", "git/manifests")},
    parent="git/manifests",
    after=("fleet/configmanagement",),
)
NAMESPACE = Descriptor(
    "k8s/Namespace",
    updates={EVERY_FIELD: Update("commit", "git/manifests")},
    parent="gke/cluster",
    after=("fleet/configmanagement",),
)
ROLE_BINDING = Descriptor(
    "k8s/RoleBinding",
    updates={EVERY_FIELD: Update("commit", "git/manifests")},
    parent="gke/cluster",
    after=("k8s/Namespace",),
)

KINDS: tuple[Descriptor, ...] = (
    PROJECT,
    BILLING,
    SERVICES,
    SERVICE_ACCOUNT,
    PROJECT_MEMBER,
    NETWORK,
    RESERVATION,
    SUBNETWORK,
    ROUTER,
    FEATURE,
    REPOSITORY,
    BRANCH,
    PROTECTION,
    MANIFESTS,
    CLUSTER,
    NODE_POOL,
    MEMBERSHIP,
    CONFIG_SYNC,
    POLICY_CONTROLLER,
    GIT_CREDS,
    K8S_OBJECT,
    NAMESPACE,
    ROLE_BINDING,
)
BY_KIND = MappingProxyType({d.kind: d for d in KINDS})
