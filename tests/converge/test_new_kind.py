"""The issue's acceptance: a kind added through one descriptor (and its adapter calls) plans,
applies, drifts, is pruned when unmanaged and tears down through the generic walks, without a
line of converge, drift or teardown code of its own. The kind: a VPC firewall rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from mlplat.converge import network, project, registry, unmanaged, walk
from mlplat.converge.bindings import compute_binding
from mlplat.converge.context import EnvContext
from mlplat.converge.findings import DriftClass
from mlplat.errors import ReplacementRequired
from mlplat.gcp import compute
from mlplat.kinds.descriptor import Descriptor, Scope, Update
from mlplat.plan import Action
from mlplat.render import network as render_network
from mlplat.render.desired import Desired
from mlplat.specs import naming
from sandbox.cloud import Sandbox
from tests.converge.conftest import writes

KIND = "compute/firewall"
FIREWALL = compute.Kind("firewall", "firewalls")
IAP_RANGE = "35.235.240.0/20"  # Google's Identity-Aware Proxy TCP forwarding range


def _rules(scope: Scope) -> tuple[Desired, ...]:
    """One rule per environment: SSH from Identity-Aware Proxy into the VPC."""
    vpc = naming.network_name(scope.platform, scope.env)
    name = f"{vpc}-allow-iap-ssh"
    return (
        Desired(
            KIND,
            name,
            {
                "name": name,
                "network": f"projects/{scope.project}/global/networks/{vpc}",
                "direction": "INGRESS",
                "priority": 1000,
                "sourceRanges": [IAP_RANGE],
                "allowed": [{"IPProtocol": "tcp", "ports": ["22"]}],
                "description": render_network.description(scope.platform),
            },
        ),
    )


DESCRIPTOR = Descriptor(
    KIND,
    render=_rules,
    immutable=("name", "network", "direction"),
    updates={
        "allowed": Update("patch"),
        "description": Update("patch"),
        "priority": Update("patch"),
        "sourceRanges": Update("patch"),
    },
    parent="compute/network",
    after=("compute/network",),
)


def _global(ctx: EnvContext) -> compute.Where:
    return compute.Where(ctx.project)


def _in_vpc(ctx: EnvContext) -> list[tuple[str, dict[str, object]]]:
    """The VPC's rules, GKE's own (`gke-…`) excepted: one list call."""
    vpc = f"/global/networks/{naming.network_name(ctx.platform, ctx.env)}"
    return [
        (str(rule["name"]), rule)
        for rule in compute.list_(ctx.target, FIREWALL, _global(ctx))
        if str(rule.get("network", "")).endswith(vpc) and not str(rule["name"]).startswith("gke-")
    ]


@pytest.fixture
def firewall_kind() -> Iterator[None]:
    binding = dataclasses.replace(compute_binding(FIREWALL, _global), members=_in_vpc)
    registry.register(registry.ManagedKind(DESCRIPTOR, binding))
    yield
    registry.unregister(KIND)


def _environment_with_vpc(ctx: EnvContext) -> None:
    project.ensure_project(ctx)
    project.ensure_billing(ctx)
    project.ensure_services(ctx)
    network.ensure_network(ctx)


@pytest.mark.usefixtures("firewall_kind")
def test_a_kind_added_by_descriptor_plans_applies_drifts_and_tears_down(
    ctx: EnvContext, sandbox: Sandbox
) -> None:
    _environment_with_vpc(ctx)
    planning = dataclasses.replace(ctx, dry_run=True)
    (name,) = [d.name for d in DESCRIPTOR.desired(ctx)]

    # plan, then apply
    (planned,) = walk.ensure_kind(planning, KIND)
    assert (planned.change.action, planned.applied) == (Action.CREATE, False)
    assert compute.get(ctx.target, FIREWALL, _global(ctx), name) is None
    (created,) = walk.ensure_kind(ctx, KIND)
    assert (created.change.action, created.applied) == (Action.CREATE, True)
    found = compute.get(ctx.target, FIREWALL, _global(ctx), name)
    assert found is not None and found["sourceRanges"] == [IAP_RANGE]

    # converged: a no-op that writes nothing, and no drift
    before = writes(sandbox)
    (again,) = walk.ensure_kind(ctx, KIND)
    assert again.change.action is Action.NOOP and writes(sandbox) == before
    assert walk.drift(planning, [KIND]) == []

    # drift: a hand edit of a declared field and of the ownership note, and a stray rule
    edited = {"sourceRanges": ["0.0.0.0/0"], "description": "opened by hand"}
    where = _global(ctx)
    compute.wait(
        ctx.target, where, compute.patch(ctx.target, FIREWALL, where, name, edited),
        what="hand edit", deadline=10,
    )  # fmt: skip
    stray = {**found, "name": "opened-by-hand", "sourceRanges": ["0.0.0.0/0"]}
    for server_set in ("id", "selfLink", "creationTimestamp", "kind"):
        stray.pop(server_set, None)
    operation = compute.insert(ctx.target, FIREWALL, where, stray)
    compute.wait(ctx.target, where, operation, what="stray rule", deadline=10)
    findings = {(f.resource, f.drift, f.field) for f in walk.drift(planning, [KIND])}
    assert findings == {
        (f"{KIND} {name}", DriftClass.CHANGED, "sourceRanges"),
        (f"{KIND} {name}", DriftClass.LABELS_CHANGED, "description"),
        (f"{KIND} opened-by-hand", DriftClass.UNMANAGED, ""),
    }

    # remediate (one patch of both fields) and prune the stray rule
    (fixed,) = walk.ensure_kind(ctx, KIND)
    assert fixed.change.action is Action.UPDATE and fixed.applied
    assert {f.path for f in fixed.change.fields} == {"sourceRanges", "description"}
    assert unmanaged.prune(ctx, walk.drift(planning, [KIND])) == 1
    assert walk.drift(planning, [KIND]) == []

    # teardown: the dependency graph puts the rule before its VPC
    gone = walk.remove_kinds(ctx, ["compute/network", KIND])
    assert [(o.change.kind, o.change.action) for o in gone] == [
        (KIND, Action.DELETE),
        ("compute/network", Action.DELETE),
    ]
    assert compute.get(ctx.target, FIREWALL, where, name) is None
    (absent,) = walk.remove_kinds(ctx, [KIND])
    assert (absent.change.action, absent.detail) == (Action.NOOP, "absent")


@pytest.mark.usefixtures("firewall_kind")
def test_a_spec_change_to_an_immutable_field_is_refused_at_plan(ctx: EnvContext) -> None:
    _environment_with_vpc(ctx)
    walk.ensure_kind(ctx, KIND)
    (desired,) = DESCRIPTOR.desired(ctx)
    egress = dataclasses.replace(desired, body={**desired.body, "direction": "EGRESS"})
    with pytest.raises(ReplacementRequired, match="direction"):
        walk.ensure(dataclasses.replace(ctx, dry_run=True), egress)
