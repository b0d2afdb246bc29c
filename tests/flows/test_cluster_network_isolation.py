"""A cluster created the old way (legacy privateClusterConfig and masterAuthorizedNetworksConfig)
converges to the network-isolation fields in place: the plan names the one field that differs
(the DNS endpoint's external traffic), one update call moves it, and the next run changes
nothing, though the server still answers the legacy view too."""

from __future__ import annotations

from typing import Any

from flows.provision_environment import context_of
from mlplat.converge import identity, network, project
from mlplat.converge.cluster import ensure_cluster
from mlplat.gcp import container
from mlplat.plan import Action
from mlplat.render import cluster as render
from mlplat.specs import load_spec
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes

DNS_FIELD = "controlPlaneEndpointsConfig.dnsEndpointConfig.allowExternalTraffic"


def _legacy_body(body: dict[str, Any]) -> dict[str, Any]:
    """The cluster as mlplat created it before network isolation."""
    ip = body.pop("controlPlaneEndpointsConfig")["ipEndpointsConfig"]
    body["networkConfig"] = {"datapathProvider": body["networkConfig"]["datapathProvider"]}
    body["privateClusterConfig"] = {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": True,
        "masterIpv4CidrBlock": body["privateClusterConfig"]["masterIpv4CidrBlock"],
    }
    body["masterAuthorizedNetworksConfig"] = ip["authorizedNetworksConfig"]
    return body


def test_a_legacy_cluster_converges_to_the_new_fields_in_place(sandbox: Sandbox) -> None:
    spec = load_spec(REFERENCE)
    ctx = context_of(spec, "dev", False, str(sandbox.endpoints_path))
    project.ensure_project(ctx)
    project.ensure_billing(ctx)
    project.ensure_services(ctx)
    identity.ensure_node_service_account(ctx)
    network.ensure_network(ctx)
    network.ensure_subnet(ctx)
    desired = render.cluster(ctx.platform, ctx.env, ctx.project)
    legacy = _legacy_body(desired.create_body())
    operation = container.create_cluster(ctx.target, ctx.cluster_parent, legacy)
    container.wait(ctx.target, ctx.cluster_parent, operation, what="legacy create", deadline=60)

    planned = ensure_cluster(context_of(spec, "dev", True, str(sandbox.endpoints_path)))
    assert planned.change.action is Action.UPDATE
    assert planned.row()["fields"] == DNS_FIELD and not planned.applied

    admin(sandbox, "POST", "/counters/reset")
    applied = ensure_cluster(ctx)
    assert applied.applied and applied.row()["fields"] == DNS_FIELD
    assert list(writes(sandbox)) == ["container.projects.locations.clusters.update"]
    observed = container.get_cluster(ctx.target, ctx.cluster_path) or {}
    endpoints = observed["controlPlaneEndpointsConfig"]
    assert endpoints["dnsEndpointConfig"]["allowExternalTraffic"] is True
    assert endpoints["ipEndpointsConfig"]["enablePublicEndpoint"] is False
    assert observed["privateClusterConfig"]["enablePrivateEndpoint"] is True  # legacy view kept

    admin(sandbox, "POST", "/counters/reset")
    assert ensure_cluster(ctx).change.action is Action.NOOP
    assert writes(sandbox) == {}
