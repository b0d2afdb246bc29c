"""GKE Hub (Fleet) v1 through the official REST client: memberships, the configmanagement
feature with Config Sync and PolicController specs, membership states, operations."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.api_core.retry import Retry
from google.cloud import gkehub_v1
from google.cloud.gkehub_v1 import configmanagement_v1 as cm
from google.protobuf import field_mask_pb2

from sandbox.cloud import Sandbox
from sandbox.gcp.gkehub.sync_reports import set_sync_report
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import Clients

P = "hub-proj-1"
GLOBAL = f"projects/{P}/locations/global"
LINK = f"//container.googleapis.com/projects/{P}/locations/{gke.REGION}/clusters/ml-dev"
POLL = Retry(initial=0.02, maximum=0.1, multiplier=2, timeout=10)  # LRO polling, fast


@pytest.fixture
def hub(clients: Clients, sandbox: Sandbox) -> tuple[gkehub_v1.GkeHubClient, str]:
    """The Hub client and the project number, with the platform cluster created."""
    gke.gke_project(clients, P)
    gke.create_cluster(sandbox, P)
    number = clients.projects.get_project(name=f"projects/{P}").name.split("/")[1]
    return gke.hub(sandbox), number


def _membership() -> gkehub_v1.Membership:
    return gkehub_v1.Membership(
        endpoint=gkehub_v1.MembershipEndpoint(gke_cluster=gkehub_v1.GkeCluster(resource_link=LINK)),
        authority=gkehub_v1.Authority(),
        labels={"managed-by": "mlplat"},
    )


def _register(client: gkehub_v1.GkeHubClient) -> gkehub_v1.Membership:
    operation = client.create_membership(
        parent=GLOBAL, resource=_membership(), membership_id="ml-dev"
    )
    membership: gkehub_v1.Membership = operation.result(timeout=10, polling=POLL)
    return membership


def test_membership_lifecycle(sandbox: Sandbox, hub: tuple[gkehub_v1.GkeHubClient, str]) -> None:
    client, number = hub
    operation = client.create_membership(
        parent=GLOBAL, resource=_membership(), membership_id="ml-dev"
    )
    metadata = operation.metadata
    assert (metadata.verb, metadata.api_version) == ("create", "v1")
    assert metadata.target == f"projects/{number}/locations/global/memberships/ml-dev"
    assert operation.operation.name.startswith(f"projects/{number}/locations/global/operations/")
    membership = operation.result(timeout=10, polling=POLL)
    name = f"projects/{number}/locations/global/memberships/ml-dev"
    assert (membership.name, membership.state.code) == (name, gkehub_v1.MembershipState.Code.READY)
    assert membership.endpoint.gke_cluster.resource_link == LINK
    assert membership.authority.workload_identity_pool == f"{P}.svc.id.goog"
    assert membership.authority.issuer.endswith(
        f"/projects/{P}/locations/us-central1/clusters/ml-dev"
    )
    assert membership.unique_id

    fetched = client.get_membership(name=f"{GLOBAL}/memberships/ml-dev")  # by project ID
    assert fetched.name == name and fetched.labels == {"managed-by": "mlplat"}
    for parent in (f"projects/{P}/locations/-", f"projects/{number}/locations/global"):
        assert [m.name for m in client.list_memberships(parent=parent)] == [name]

    with pytest.raises(exceptions.Conflict, match="already exists"):
        client.create_membership(parent=GLOBAL, resource=_membership(), membership_id="ml-dev")
    with pytest.raises(exceptions.Conflict, match="already registered"):
        client.create_membership(parent=GLOBAL, resource=_membership(), membership_id="other")
    elsewhere = _membership()
    elsewhere.endpoint.gke_cluster.resource_link = LINK.replace("ml-dev", "nope")
    with pytest.raises(exceptions.BadRequest, match="was not found"):
        client.create_membership(parent=GLOBAL, resource=elsewhere, membership_id="nope")

    patch = gkehub_v1.Membership(labels={"managed-by": "mlplat", "env": "dev"})
    mask = field_mask_pb2.FieldMask(paths=["labels"])
    client.update_membership(name=name, resource=patch, update_mask=mask).result(
        timeout=10, polling=POLL
    )
    assert client.get_membership(name=name).labels == {"managed-by": "mlplat", "env": "dev"}

    assert not client.get_membership(name=name).endpoint.gke_cluster.cluster_missing
    gke_client = gke.container(sandbox)
    op = gke_client.delete_cluster(name=f"projects/{P}/locations/{gke.REGION}/clusters/ml-dev")
    gke.finish(gke_client, P, gke.REGION, op)
    assert client.get_membership(name=name).endpoint.gke_cluster.cluster_missing

    client.delete_membership(name=name).result(timeout=10, polling=POLL)
    with pytest.raises(exceptions.NotFound):
        client.get_membership(name=name)
    assert list(client.list_memberships(parent=f"projects/{P}/locations/-")) == []


def _spec() -> gkehub_v1.MembershipFeatureSpec:
    return gkehub_v1.MembershipFeatureSpec(
        configmanagement=cm.MembershipSpec(
            config_sync=cm.ConfigSync(
                enabled=True,
                source_format="unstructured",
                git=cm.GitConfig(
                    sync_repo="https://github.com/acme/ml-platform-configs.git",
                    sync_branch="dev",
                    policy_dir="manifests/clusters/ml-dev",
                    secret_type="token",
                    sync_wait_secs=15,
                ),
            ),
            policy_controller=cm.PolicyController(
                enabled=True, template_library_installed=True, referential_rules_enabled=True
            ),
            version="1.20.1",
        )
    )


def test_configmanagement_feature(
    sandbox: Sandbox, hub: tuple[gkehub_v1.GkeHubClient, str]
) -> None:
    client, number = hub
    membership = _register(client)
    created = client.create_feature(
        parent=GLOBAL, resource=gkehub_v1.Feature(), feature_id="configmanagement"
    ).result(timeout=10, polling=POLL)
    feature_name = f"projects/{number}/locations/global/features/configmanagement"
    assert created.name == feature_name
    assert created.resource_state.state == gkehub_v1.FeatureResourceState.State.ACTIVE
    with pytest.raises(exceptions.Conflict):
        client.create_feature(
            parent=GLOBAL, resource=gkehub_v1.Feature(), feature_id="configmanagement"
        )

    by_id = f"projects/{P}/locations/global/memberships/ml-dev"  # the key as the tool writes it
    patch = gkehub_v1.Feature(membership_specs={by_id: _spec()})
    mask = field_mask_pb2.FieldMask(paths=["membership_specs"])
    updated = client.update_feature(
        name=f"{GLOBAL}/features/configmanagement", resource=patch, update_mask=mask
    ).result(timeout=10, polling=POLL)
    assert list(updated.membership_specs) == [membership.name]  # keyed by project number

    feature = client.get_feature(name=f"{GLOBAL}/features/configmanagement")
    spec = feature.membership_specs[membership.name].configmanagement
    assert spec.config_sync.git.sync_branch == "dev"
    assert spec.config_sync.git.sync_wait_secs == 15
    assert spec.policy_controller.enabled and spec.config_sync.source_format == "unstructured"
    state = feature.membership_states[membership.name]
    acm = state.configmanagement
    assert acm.config_sync_state.sync_state.code == cm.SyncState.SyncCode.PENDING
    assert acm.operator_state.deployment_state == cm.DeploymentState.INSTALLED
    assert acm.policy_controller_state.deployment_state.gatekeeper_audit == (
        cm.DeploymentState.INSTALLED
    )
    assert acm.membership_spec.config_sync.git.policy_dir == "manifests/clusters/ml-dev"

    set_sync_report(
        sandbox.rt,
        by_id,
        {"code": "SYNCED", "commit": "0123abcd", "lastSyncTime": "2026-01-01T00:00:00Z"},
    )
    synced = client.get_feature(name=f"{GLOBAL}/features/configmanagement")
    sync_state = synced.membership_states[membership.name].configmanagement.config_sync_state
    assert sync_state.sync_state.code == cm.SyncState.SyncCode.SYNCED
    assert sync_state.sync_state.sync_token == "0123abcd"
    assert [f.name for f in client.list_features(parent=GLOBAL)] == [feature_name]

    bad = gkehub_v1.Feature(
        membership_specs={f"projects/{P}/locations/global/memberships/ghost": _spec()}
    )
    with pytest.raises(exceptions.BadRequest, match="does not match a current membership"):
        client.update_feature(
            name=f"{GLOBAL}/features/configmanagement", resource=bad, update_mask=mask
        )


def test_hub_needs_its_api(clients: Clients, sandbox: Sandbox) -> None:
    clients.ready_project(P, ["container.googleapis.com"])
    client = gke.hub(sandbox)
    with pytest.raises(exceptions.Forbidden) as caught:
        list(client.list_memberships(parent=f"projects/{P}/locations/-"))
    assert caught.value.reason == "SERVICE_DISABLED"
    assert caught.value.metadata["service"] == "gkehub.googleapis.com"
