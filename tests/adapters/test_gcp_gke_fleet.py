"""mlplat's GKE and fleet adapters against the sandbox, with bodies rendered from the spec."""

from __future__ import annotations

from typing import Any

import pytest

from mlplat.errors import ReplacementRequired
from mlplat.gcp import compute, container, fleet, iam, projects
from mlplat.gcp.waiting import poll
from mlplat.kinds import catalog
from mlplat.plan import Action, plan
from mlplat.render import cluster as render_cluster
from mlplat.render import fleet as render_fleet
from mlplat.render import network as render_network
from mlplat.render import project as render_project
from mlplat.specs import PlatformSpec, load_spec, naming
from mlplat.target import Target
from tests.unit.spec_files import REFERENCE


@pytest.fixture(scope="module")
def spec() -> PlatformSpec:
    return load_spec(REFERENCE)


def _network(target: Target, spec: PlatformSpec, project: str) -> None:
    env = spec.environments["dev"]
    region = naming.region(spec.platform, env)
    for desired, where in (
        (render_network.network(spec.platform, env), compute.Where(project)),
        (render_network.subnet(spec.platform, env, project), compute.Where(project, region)),
    ):
        kind = compute.NETWORK if desired.kind == "compute/network" else compute.SUBNETWORK
        op = compute.insert(target, kind, where, desired.create_body())
        compute.wait(target, where, op, what=desired.kind, deadline=10)


def _ready(target: Target, spec: PlatformSpec) -> tuple[str, str]:
    env = spec.environments["dev"]
    desired = render_project.project(spec.platform, env)
    project = desired.name
    projects.wait_operation(
        target, "projects", projects.create(target, desired.create_body()), "create", deadline=10
    )
    projects.link_billing(target, project, "billingAccounts/012345-6789AB-CDEF01")
    for op in projects.enable_services(target, project, render_project.services()):
        projects.wait_operation(target, "services", op, "enable", deadline=10)
    _network(target, spec, project)
    _node_account(target, spec, project)
    return project, naming.region(spec.platform, env)


def _node_account(target: Target, spec: PlatformSpec, project: str) -> None:
    """The nodes' service account, which GKE requires to exist, with its project roles."""
    account_id = naming.node_service_account_id(spec.platform, spec.environments["dev"])
    created = iam.create_service_account(target, project, account_id, "nodes", "test")
    email = created["email"]
    assert iam.get_service_account(target, project, email) is not None
    wanted = {"roles/container.defaultNodeServiceAccount": {f"serviceAccount:{email}"}}
    assert iam.ensure_project_bindings(target, project, wanted) == wanted
    assert iam.ensure_project_bindings(target, project, wanted) == {}, "idempotent"


def test_cluster_round_trip_plans_noop_and_detects_changes(
    target: Target, spec: PlatformSpec
) -> None:
    project, region = _ready(target, spec)
    env = spec.environments["dev"]
    desired = render_cluster.cluster(spec.platform, env, project)
    parent = f"projects/{project}/locations/{region}"
    path = container.cluster_path(project, region, desired.name)
    assert container.get_cluster(target, path) is None

    op = container.create_cluster(target, parent, desired.create_body())
    container.wait(target, parent, op, what="create", deadline=10)
    observed = container.get_cluster(target, path)
    assert observed is not None and observed["status"] == "RUNNING"
    assert catalog.CLUSTER.plan(desired, observed).action is Action.NOOP

    system = render_cluster.system_pool(spec.platform, env, project)
    observed_pool = container.get_node_pool(target, path, system.name)
    assert plan(system.kind, system.name, system.body, observed_pool).action is Action.NOOP

    for pool in render_cluster.node_pools(spec.platform, env, project):
        if "reservationAffinity" in pool.body["config"]:
            continue  # needs the reservation; covered by the flow tests
        op = container.create_node_pool(target, path, pool.create_body())
        container.wait(target, parent, op, what="pool", deadline=10)
        found = container.get_node_pool(target, path, pool.name)
        assert plan(pool.kind, pool.name, pool.body, found).action is Action.NOOP, pool.name

    moved = {**observed, "location": "europe-west4"}
    with pytest.raises(ReplacementRequired, match="location"):
        catalog.CLUSTER.plan(desired, moved)


def test_membership_and_config_management(target: Target, spec: PlatformSpec) -> None:
    project, region = _ready(target, spec)
    env = spec.environments["dev"]
    desired = render_cluster.cluster(spec.platform, env, project)
    parent = f"projects/{project}/locations/{region}"
    container.wait(
        target,
        parent,
        container.create_cluster(target, parent, desired.create_body()),
        what="create",
        deadline=10,
    )

    membership = render_fleet.membership(spec.platform, env, project)
    fleet.create_membership(target, project, membership.name, membership.create_body())
    ready: dict[str, Any] = poll(
        "membership",
        lambda: fleet.get_membership(target, project, membership.name),
        lambda m: bool(m) and m["state"]["code"] == "READY",
        deadline=10,
    )
    assert plan(membership.kind, membership.name, membership.body, ready).action is Action.NOOP

    fleet.create_feature(target, project, "configmanagement", {})
    cm = render_fleet.config_management_spec(spec.platform, env, "https://github.com/o/r.git")
    number = projects.get(target, project)["name"].split("/")[1]  # type: ignore[index]
    key = f"projects/{number}/locations/global/memberships/{membership.name}"
    fleet.update_feature(
        target,
        project,
        "configmanagement",
        {"membershipSpecs": {key: {"configmanagement": dict(cm.body)}}},
        ["membershipSpecs"],
    )
    feature = fleet.get_feature(target, project, "configmanagement")
    assert feature is not None
    stored = feature["membershipSpecs"][key]["configmanagement"]
    assert plan(cm.kind, cm.name, cm.body, stored).action is Action.NOOP
