"""The converge steps of dev's Google resources, called directly: a first run creates every
resource, a second plans NOOP for each and writes nothing, a change made by hand is planned as
an UPDATE of exactly that field and put back, and a change of an immutable field in the spec is
refused (ReplacementRequired) before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.cloud import compute_v1, container_v1

from mlplat.converge import cluster, network
from mlplat.errors import ReplacementRequired
from mlplat.plan import Action, FieldChange
from mlplat.render import cluster as render_cluster
from mlplat.render import network as render_network
from tests.converge.conftest import Built, edited_spec, google_chain
from tests.sandbox.conftest import client_kwargs

KINDS = [
    "project",
    "project/billing",
    "project/services",
    "iam/service-account",
    "compute/network",
    "compute/subnetwork",
    "compute/router",
    "compute/reservation",
    "gke/cluster",
    "gke/node-pool",
]


def _gke(built: Built) -> container_v1.ClusterManagerClient:
    return container_v1.ClusterManagerClient(**client_kwargs(built.sandbox.url("container")))


def _pool(built: Built, name: str) -> Any:
    (desired,) = (
        p
        for p in render_cluster.every_pool(built.ctx.platform, built.ctx.env, built.ctx.project)
        if p.name == name
    )
    return desired


def test_a_first_run_creates_every_resource(built: Built) -> None:
    assert {o.change.kind for o in built.first} == set(KINDS)
    # A new project's billing link and API set are updates of what the project came with; the
    # system pool comes with the cluster.
    linked = ("project/billing", "project/services")
    system = render_cluster.system_pool(built.ctx.platform, built.ctx.env, built.ctx.project).name

    def expected(kind: str, name: str) -> tuple[Action, bool]:
        if kind == "gke/node-pool" and name == system:
            return Action.NOOP, False
        return (Action.UPDATE if kind in linked else Action.CREATE), True

    assert [(o.change.kind, o.change.action, o.applied) for o in built.first] == [
        (o.change.kind, *expected(o.change.kind, o.change.name)) for o in built.first
    ]
    cluster_state = _gke(built).get_cluster(name=built.ctx.cluster_path)
    assert cluster_state.status == container_v1.Cluster.Status.RUNNING
    assert {p.name for p in cluster_state.node_pools} == {
        p.name
        for p in render_cluster.every_pool(built.ctx.platform, built.ctx.env, built.ctx.project)
    }
    assert any(line.endswith(": create") or ": create " in line for line in built.lines)


def test_a_second_run_plans_noop_for_each_and_writes_nothing(built: Built) -> None:
    built.reset_counters()
    again = google_chain(built.ctx)
    assert [(o.change.kind, o.change.name) for o in again] == [
        (o.change.kind, o.change.name) for o in built.first
    ]
    assert {o.change.action for o in again} == {Action.NOOP}
    assert not any(o.applied for o in again)
    assert built.writes() == {}


def test_a_pool_scaled_by_hand_is_planned_as_an_update_then_put_back(built: Built) -> None:
    pool = _pool(built, "gpu-l4-spot")
    _gke(built).set_node_pool_autoscaling(
        request={
            "name": f"{built.ctx.cluster_path}/nodePools/gpu-l4-spot",
            "autoscaling": {
                "enabled": True,
                "total_min_node_count": 0,
                "total_max_node_count": 3,
                "location_policy": "ANY",
            },
        }
    )
    built.reset_counters()
    planned = cluster.ensure_node_pool(built.planning(), pool)
    assert planned.change.action is Action.UPDATE
    assert planned.change.fields == (FieldChange("autoscaling.totalMaxNodeCount", 24, 3),)
    assert not planned.applied and built.writes() == {}

    applied = cluster.ensure_node_pool(built.ctx, pool)
    assert (applied.change.action, applied.applied) == (Action.UPDATE, True)
    assert set(built.writes()) == {"container.projects.locations.clusters.nodePools.setAutoscaling"}
    assert cluster.ensure_node_pool(built.ctx, pool).change.action is Action.NOOP


def test_a_subnet_changed_by_hand_is_planned_as_an_update_then_put_back(built: Built) -> None:
    subnets = built.clients.compute(compute_v1.SubnetworksClient)
    name = render_network.subnet(built.ctx.platform, built.ctx.env, built.ctx.project).name
    where = {"project": built.ctx.project, "region": built.ctx.region}
    current = subnets.get(subnetwork=name, **where)
    built.clients.wait(
        subnets.patch(
            subnetwork=name,
            subnetwork_resource=compute_v1.Subnetwork(
                private_ip_google_access=False, fingerprint=current.fingerprint
            ),
            **where,
        ),
        built.ctx.project,
        region=built.ctx.region,
    )
    planned = network.ensure_subnet(built.planning())
    assert planned.change.action is Action.UPDATE
    assert [f.path for f in planned.change.fields] == ["privateIpGoogleAccess"]
    applied = network.ensure_subnet(built.ctx)
    assert (applied.change.action, applied.applied) == (Action.UPDATE, True)
    assert subnets.get(subnetwork=name, **where).private_ip_google_access is True
    assert network.ensure_subnet(built.ctx).change.action is Action.NOOP


@pytest.mark.parametrize(
    ("edit", "step", "field"),
    [
        (
            lambda env: env.setdefault("network", {}).update(subnet_cidr="10.50.0.0/22"),
            network.ensure_subnet,
            "ipCidrRange",
        ),
        (
            lambda env: env.setdefault("cluster", {}).update(
                system_pool={"machine_type": "e2-standard-8", "nodes_per_zone": 1}
            ),
            lambda ctx: [
                cluster.ensure_node_pool(ctx, pool)
                for pool in render_cluster.every_pool(ctx.platform, ctx.env, ctx.project)
            ],
            "config.machineType",
        ),
    ],
    ids=["subnet-range", "system-pool-machine-type"],
)
def test_an_immutable_change_in_the_spec_is_refused_before_any_write(
    built: Built, tmp_path: Path, edit: Any, step: Any, field: str
) -> None:
    ctx = built.with_spec(edited_spec(tmp_path, edit))
    built.reset_counters()
    with pytest.raises(ReplacementRequired, match=field):
        step(ctx)
    assert built.writes() == {}
