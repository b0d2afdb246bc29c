"""Pure unit tests of GKE update semantics (container_updates): fields, fingerprints, etags."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from sandbox.gcp.container import updates as upd
from sandbox.gcp.container.naming import CHANNEL_VERSIONS, label_fingerprint
from sandbox.gcp.container.validation import ModelError, new_cluster, new_node_pool

NOW = "2026-01-01T00:00:00Z"
HOST = "http://127.0.0.1:8080"
GPU_POOL: dict[str, Any] = {
    "name": "gpu-spot",
    "initialNodeCount": 1,
    "config": {
        "machineType": "g2-standard-8",
        "spot": True,
        "accelerators": [{"acceleratorType": "nvidia-l4", "acceleratorCount": "1"}],
    },
}


def make_cluster() -> dict[str, Any]:
    body = {
        "name": "gke-ml-dev",
        "initialNodeCount": 2,
        "addonsConfig": {"gcpFilestoreCsiDriverConfig": {"enabled": True}},
    }
    return new_cluster("p", "us-central1", body, now=NOW, project_number="1", host=HOST)


def with_pool(cluster: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    pool = new_node_pool(cluster, body, now=NOW, host=HOST)
    return {**cluster, "nodePools": [*cluster["nodePools"], pool]}


def error_of(call: Any, *args: Any, **kwargs: Any) -> ModelError:
    with pytest.raises(ModelError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_cluster_updates_mlplat_uses() -> None:
    c = make_cluster()
    before = copy.deepcopy(c)
    networks = {"enabled": True, "cidrBlocks": [{"cidrBlock": "10.0.0.0/8", "displayName": "corp"}]}
    steps: list[tuple[dict[str, Any], str, Any]] = [
        (
            {"desiredMasterAuthorizedNetworksConfig": networks},
            "masterAuthorizedNetworksConfig",
            networks,
        ),
        ({"desiredReleaseChannel": {"channel": "STABLE"}}, "releaseChannel", {"channel": "STABLE"}),
        (
            {"desiredWorkloadIdentityConfig": {"workloadPool": "q.svc.id.goog"}},
            "workloadIdentityConfig",
            {"workloadPool": "q.svc.id.goog"},
        ),
        ({"desiredShieldedNodes": {}}, "shieldedNodes", {}),
        ({"desiredLoggingService": "none"}, "loggingService", "none"),
        ({"desiredDatapathProvider": "LEGACY_DATAPATH"}, "networkConfig", c["networkConfig"]),
        ({"desiredMasterVersion": "1.34"}, "currentMasterVersion", CHANNEL_VERSIONS["RAPID"]),
    ]
    for update, field, expected in steps:
        updated = upd.apply_cluster_update(c, update)
        assert updated[field] == expected, update
        assert updated["etag"] != c["etag"] or field == "networkConfig"
    assert c == before  # inputs are never mutated
    addons = upd.apply_cluster_update(
        c, {"desiredAddonsConfig": {"httpLoadBalancing": {"disabled": True}}}
    )
    assert addons["addonsConfig"]["httpLoadBalancing"] == {"disabled": True}
    assert addons["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": True}
    limits = [{"resourceType": "memory", "minimum": 1, "maximum": 64}]
    nap = upd.apply_cluster_update(
        c,
        {
            "desiredClusterAutoscaling": {
                "enableNodeAutoprovisioning": True,
                "resourceLimits": limits,
            }
        },
    )
    assert nap["autoscaling"]["resourceLimits"] == [
        {"resourceType": "memory", "minimum": "1", "maximum": "64"}
    ]
    assert nap["autoscaling"]["autoprovisioningNodePoolDefaults"]["serviceAccount"] == "default"
    assert upd.update_operation_type({"desiredMasterVersion": "-"}) == "UPGRADE_MASTER"
    assert upd.update_operation_type({"desiredShieldedNodes": {}}) == "UPDATE_CLUSTER"


def test_node_pool_autoscaling_through_cluster_update() -> None:
    c = make_cluster()
    scaling = {"enabled": True, "minNodeCount": 1, "maxNodeCount": 3}
    single = upd.apply_cluster_update(c, {"desiredNodePoolAutoscaling": scaling})
    assert single["nodePools"][0]["autoscaling"] == {"locationPolicy": "BALANCED", **scaling}
    two = with_pool(c, GPU_POOL)
    error = error_of(upd.apply_cluster_update, two, {"desiredNodePoolAutoscaling": scaling})
    assert error.message == "Node pool id must be specified if cluster has more than one node pool."
    done = upd.apply_cluster_update(
        two, {"desiredNodePoolAutoscaling": scaling, "desiredNodePoolId": "gpu-spot"}
    )
    assert done["nodePools"][1]["autoscaling"]["maxNodeCount"] == 3
    assert done["nodePools"][1]["etag"] != two["nodePools"][1]["etag"]


@pytest.mark.parametrize(
    ("update", "code", "message"),
    [
        ({}, "INVALID_ARGUMENT", "Must specify a field to update."),
        ({"etag": "stale", "desiredShieldedNodes": {}}, "ABORTED", "etag"),
        ({"desiredDatapathProvider": "ADVANCED_DATAPATH"}, "INVALID_ARGUMENT", "datapath provider"),
        ({"desiredStackType": "IPV4_IPV6"}, "UNIMPLEMENTED", "desiredStackType"),
        (
            {"desiredClusterAutoscaling": {"resourceLimits": [{"minimum": 2, "maximum": 1}]}},
            "INVALID_ARGUMENT",
            "minimum exceeds maximum",
        ),
        ({"desiredLocations": ["us-east1-b"]}, "INVALID_ARGUMENT", "must be zones of us-central1"),
    ],
)
def test_refused_cluster_updates(update: dict[str, Any], code: str, message: str) -> None:
    error = error_of(upd.apply_cluster_update, make_cluster(), update)
    assert error.code == code and message in error.message, error.message


def test_set_labels_needs_the_current_fingerprint() -> None:
    c = make_cluster()
    labelled = upd.set_labels(c, {"env": "dev"}, "a9dc16a7")
    assert labelled["resourceLabels"] == {"env": "dev"}
    assert labelled["labelFingerprint"] == label_fingerprint({"env": "dev"}) != "a9dc16a7"
    assert labelled["etag"] != c["etag"]
    error = error_of(upd.set_labels, labelled, {"env": "prod"}, "a9dc16a7")
    assert (error.code, error.http_status) == ("FAILED_PRECONDITION", 400)
    expected = labelled["labelFingerprint"]
    assert error.message == (
        "Labels could not be set due to fingerprint mismatch; try again with the proper "
        'fingerprint: incorrect fingerprint supplied was "a9dc16a7", '
        f'the expected one is "{expected}".'
    )
    cleared = upd.set_labels(labelled, {}, expected)
    assert "resourceLabels" not in cleared and cleared["labelFingerprint"] == "a9dc16a7"


def test_update_node_pool_replaces_wrapped_fields() -> None:
    c = with_pool(make_cluster(), GPU_POOL)
    taints = [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}]
    request = {
        "projectId": "p",
        "zone": "us-central1",
        "clusterId": "gke-ml-dev",
        "nodePoolId": "gpu-spot",
        "nodeVersion": "-",
        "labels": {"labels": {"team": "a"}},
        "taints": {"taints": taints},
        "resourceLabels": {"labels": {"cost": "ml"}},
        "diskSizeGb": "200",
        "locations": ["us-central1-a"],
        "etag": c["nodePools"][1]["etag"],
    }
    updated = upd.update_node_pool(c, "gpu-spot", request)
    pool = updated["nodePools"][1]
    config = pool["config"]
    assert config["labels"] == {"team": "a"} and config["taints"] == taints
    assert config["resourceLabels"] == {
        "cost": "ml",
        "goog-gke-node-pool-provisioning-model": "spot",
    }
    assert config["diskSizeGb"] == 200 and pool["locations"] == ["us-central1-a"]
    assert (
        pool["version"] == c["currentMasterVersion"] and pool["etag"] != c["nodePools"][1]["etag"]
    )
    assert updated["currentNodeCount"] == 7
    moved = {"machineType": "g2-standard-12", "queuedProvisioning": {"enabled": True}}
    bigger = upd.update_node_pool(updated, "gpu-spot", moved)["nodePools"][1]
    assert bigger["config"]["machineType"] == "g2-standard-12"
    assert bigger["queuedProvisioning"] == {"enabled": True}
    cleared = upd.update_node_pool(updated, "gpu-spot", {"taints": {}, "labels": {}})
    assert "taints" not in cleared["nodePools"][1]["config"]
    assert "labels" not in cleared["nodePools"][1]["config"]
    for bad, code in [
        ({"etag": "old", "labels": {}}, "ABORTED"),
        ({"projectId": "p"}, "INVALID_ARGUMENT"),
        ({"taints": {"taints": [{"key": "k", "effect": "BOGUS"}]}}, "INVALID_ARGUMENT"),
        ({"locations": ["europe-west1-b"]}, "INVALID_ARGUMENT"),
        ({"machineType": "e2-standard-4"}, "INVALID_ARGUMENT"),  # GPUs need a GPU machine
        ({"nodeConfigUpdateMode": "LIVE_UPDATE_WITHOUT_DRAIN"}, "UNIMPLEMENTED"),
    ]:
        assert error_of(upd.update_node_pool, c, "gpu-spot", bad).code == code
    missing = error_of(upd.update_node_pool, c, "nope", {"labels": {}})
    assert missing.code == "NOT_FOUND" and missing.message.endswith(
        "clusters/gke-ml-dev/nodePools/nope."
    )


def test_set_autoscaling_size_management_and_status() -> None:
    c = with_pool(make_cluster(), GPU_POOL)
    scaled = upd.set_autoscaling(c, "gpu-spot", {"enabled": False})
    assert scaled["nodePools"][1]["autoscaling"] == {}
    assert error_of(upd.set_autoscaling, c, "gpu-spot", {"enabled": True, "maxNodeCount": 0}).code
    sized = upd.set_size(c, "default-pool", 4)
    assert sized["nodePools"][0]["initialNodeCount"] == 4 and sized["currentNodeCount"] == 15
    assert "initialNodeCount" not in upd.set_size(c, "gpu-spot", 0)["nodePools"][1]
    assert error_of(upd.set_size, c, "gpu-spot", -1).code == "INVALID_ARGUMENT"
    managed = upd.set_management(c, "gpu-spot", {"autoRepair": True, "autoUpgrade": True})
    assert managed["nodePools"][1]["management"] == {"autoRepair": True, "autoUpgrade": True}
    error = error_of(upd.set_management, c, "gpu-spot", {"autoRepair": True})
    assert "release channel" in error.message
    running = upd.set_status(c, "RUNNING")
    assert {p["status"] for p in running["nodePools"]} == {"RUNNING"}
    assert (
        upd.set_status(running, "RECONCILING", "gpu-spot")["nodePools"][1]["status"]
        == "RECONCILING"
    )


def test_access_updates_keep_both_views_in_step() -> None:
    c = make_cluster()  # public nodes, public IP endpoint
    private = upd.apply_cluster_update(c, {"desiredDefaultEnablePrivateNodes": True})
    assert private["privateClusterConfig"]["enablePrivateNodes"] is True
    assert private["networkConfig"]["defaultEnablePrivateNodes"] is True
    networks = {"enabled": True, "cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}
    closed = upd.apply_cluster_update(
        private,
        {
            "desiredEnablePrivateEndpoint": True,
            "desiredMasterAuthorizedNetworksConfig": networks,
        },
    )
    ip = closed["controlPlaneEndpointsConfig"]["ipEndpointsConfig"]
    assert ip["enablePublicEndpoint"] is False and ip["authorizedNetworksConfig"] == networks
    assert closed["endpoint"] == ip["privateEndpoint"]
    opened = upd.apply_cluster_update(closed, {"desiredMasterAuthorizedNetworksConfig": {}})
    assert opened["masterAuthorizedNetworksConfig"] == {}
    assert (
        opened["controlPlaneEndpointsConfig"]["ipEndpointsConfig"]["authorizedNetworksConfig"] == {}
    )
    dns = upd.apply_cluster_update(
        closed,
        {
            "desiredControlPlaneEndpointsConfig": {
                "dnsEndpointConfig": {"allowExternalTraffic": True}
            }
        },
    )["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]
    before = closed["controlPlaneEndpointsConfig"]["dnsEndpointConfig"]["endpoint"]
    assert dns["allowExternalTraffic"] is True and dns["endpoint"] == before
