"""A cluster created the old way (legacy privateClusterConfig and masterAuthorizedNetworksConfig)
converges to the network-isolation fields in place: the plan names the one field that differs
(the DNS endpoint's external traffic), one update call moves it, and the next run changes
nothing, though the server still answers the legacy view too."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from flows.provision_environment import context_of
from mlplat.converge import identity, network, project
from mlplat.converge.cluster import ensure_cluster
from mlplat.converge.context import EnvContext
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


def _ready(ctx: EnvContext) -> None:
    """The project, its APIs, the node identity and network a cluster needs."""
    project.ensure_project(ctx)
    project.ensure_billing(ctx)
    project.ensure_services(ctx)
    identity.ensure_node_service_account(ctx)
    network.ensure_network(ctx)
    network.ensure_subnet(ctx)


def test_a_legacy_cluster_converges_to_the_new_fields_in_place(sandbox: Sandbox) -> None:
    spec = load_spec(REFERENCE)
    ctx = context_of(spec, "dev", False, str(sandbox.endpoints_path))
    _ready(ctx)
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


def test_access_changes_in_the_spec_update_the_new_fields_in_place(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    ctx = context_of(load_spec(REFERENCE), "dev", False, str(sandbox.endpoints_path))
    _ready(ctx)
    assert ensure_cluster(ctx).change.action is Action.CREATE
    spec = tmp_path / "spec"
    shutil.copytree(REFERENCE, spec, ignore=shutil.ignore_patterns("schema"))
    dev = spec / "environments" / "dev.yaml"
    doc = yaml.safe_load(dev.read_text())
    doc["cluster"]["dns_endpoint"] = False
    doc.setdefault("network", {})["authorized_networks"] = [
        {"name": "office", "cidr": "10.9.0.0/16"}
    ]
    dev.write_text(yaml.safe_dump(doc, sort_keys=False))
    changed = context_of(load_spec(spec), "dev", False, str(sandbox.endpoints_path))

    admin(sandbox, "POST", "/counters/reset")
    outcome = ensure_cluster(changed)
    assert outcome.row()["fields"] == ", ".join(
        [
            "controlPlaneEndpointsConfig.ipEndpointsConfig.authorizedNetworksConfig.cidrBlocks",
            DNS_FIELD,
        ]
    )
    assert writes(sandbox) == {"container.projects.locations.clusters.update": 1}
    observed = container.get_cluster(ctx.target, ctx.cluster_path) or {}
    blocks = observed["masterAuthorizedNetworksConfig"]["cidrBlocks"]  # the legacy view too
    assert [b["cidrBlock"] for b in blocks] == ["10.9.0.0/16"]
    admin(sandbox, "POST", "/counters/reset")
    assert ensure_cluster(changed).change.action is Action.NOOP
    assert writes(sandbox) == {}


def test_public_nodes_turned_on_out_of_band_are_made_private_again(sandbox: Sandbox) -> None:
    ctx = context_of(load_spec(REFERENCE), "dev", False, str(sandbox.endpoints_path))
    _ready(ctx)
    ensure_cluster(ctx)
    drift = container.update_cluster(
        ctx.target, ctx.cluster_path, {"desiredDefaultEnablePrivateNodes": False}
    )
    container.wait(ctx.target, ctx.cluster_parent, drift, what="drift", deadline=60)

    admin(sandbox, "POST", "/counters/reset")
    outcome = ensure_cluster(ctx)
    assert outcome.row()["fields"] == "networkConfig.defaultEnablePrivateNodes"
    assert writes(sandbox) == {"container.projects.locations.clusters.update": 1}
    observed = container.get_cluster(ctx.target, ctx.cluster_path) or {}
    assert observed["privateClusterConfig"]["enablePrivateNodes"] is True
