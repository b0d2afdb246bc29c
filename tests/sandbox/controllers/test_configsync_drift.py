"""Config Sync and hand edits of what it manages: refused by its admission webhook with
`preventDrift` (kpt-config-sync's messages; kubectl shows them), put back within seconds
without it (the remediator, not the hourly resync)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from google.cloud import gkehub_v1
from google.protobuf import field_mask_pb2
from kubernetes import client

from tests.sandbox.controllers.fleet_env import (
    MEMBERSHIP,
    POLICY_DIR,
    POLL,
    SYSTEM,
    Fleet,
    config_management_spec,
    eventually,
)

TEAM = """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-d
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: quota
  namespace: team-d
spec:
  hard: {cpu: "8", pods: "20"}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: isolate
  namespace: team-d
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
WEBHOOK = 'admission webhook "v1.admission-webhook.configsync.gke.io" denied the request: '


@pytest.fixture(scope="module")
def team(fleet: Fleet) -> Fleet:
    """The fleet's cluster with a team's namespace, quota and NetworkPolicy from Git."""
    fleet.git_creds(SYSTEM)
    fleet.synced(fleet.push({f"{POLICY_DIR}/team.yaml": TEAM}, "team"))
    return fleet


def _prevent_drift(fleet: Fleet, on: bool) -> None:
    spec = config_management_spec(f"{fleet.github.url}/mlplat/platform-config.git")
    spec.configmanagement.config_sync.prevent_drift = on
    parent = f"projects/{fleet.project}/locations/global"
    fleet.hub.update_feature(
        name=f"{parent}/features/configmanagement",
        resource=gkehub_v1.Feature(membership_specs={f"{parent}/memberships/{MEMBERSHIP}": spec}),
        update_mask=field_mask_pb2.FieldMask(paths=["membership_specs"]),
    ).result(timeout=10, polling=POLL)
    fleet.controllers.run_once()  # the webhook follows the spec at the next pass


def _hard(fleet: Fleet) -> dict[str, str]:
    quota = fleet.core.read_namespaced_resource_quota("quota", "team-d")
    return dict(quota.spec.hard)


def test_with_prevent_drift_hand_edits_are_refused(team: Fleet, tmp_path: Path) -> None:
    fleet = team
    _prevent_drift(fleet, True)
    with pytest.raises(client.ApiException) as refused:
        fleet.core.patch_namespaced_resource_quota(
            "quota", "team-d", {"spec": {"hard": {"cpu": "64"}}}
        )
    assert refused.value.status == 403
    body = yaml.safe_load(refused.value.body)
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        WEBHOOK + "fields managed by Config Sync can not be modified: .spec.hard.cpu"
    )
    with pytest.raises(client.ApiException) as relabel:
        fleet.core.patch_namespace(
            "team-d", {"metadata": {"labels": {"app.kubernetes.io/managed-by": "me"}}}
        )
    assert "Config Sync metadata can not be modified" in relabel.value.body
    # a field Git does not declare stays the user's
    fleet.core.patch_namespace("team-d", {"metadata": {"labels": {"owner": "alice"}}})

    deleted = fleet.kubectl(tmp_path, "delete", "networkpolicy", "isolate", "-n", "team-d")
    assert deleted.returncode != 0
    assert deleted.stderr.strip() == (
        "error: You must be logged in to the server ("
        + WEBHOOK
        + "requester is not authorized to delete managed resources)"
    )
    assert fleet.custom.api_client  # the objects are all still there, unchanged
    client.NetworkingV1Api(fleet.api).read_namespaced_network_policy("isolate", "team-d")
    assert _hard(fleet) == {"cpu": "8", "pods": "20"}


def test_without_prevent_drift_hand_edits_are_put_back_within_seconds(team: Fleet) -> None:
    fleet = team
    _prevent_drift(fleet, False)
    clock = fleet.sandbox.rt.now()
    fleet.core.patch_namespaced_resource_quota("quota", "team-d", {"spec": {"hard": {"cpu": "64"}}})
    client.NetworkingV1Api(fleet.api).delete_namespaced_network_policy("isolate", "team-d")
    eventually(lambda: _hard(fleet)["cpu"] == "8", "the quota put back", timeout=10)
    eventually(
        lambda: client.NetworkingV1Api(fleet.api).read_namespaced_network_policy(
            "isolate", "team-d"
        ),
        "the NetworkPolicy put back",
        timeout=10,
    )
    assert fleet.sandbox.rt.now() - clock < 60, "well before any resync period"
