"""Pure unit tests of the GKE (Container v1) model: server-side defaults, validation, schema."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from google.cloud import container_v1

from sandbox.gcp.container import operation_rules as ops
from sandbox.gcp.container import updates as upd
from sandbox.gcp.container.naming import CHANNEL_VERSIONS
from sandbox.gcp.container.validation import (
    ModelError,
    new_cluster,
    new_node_pool,
    validate_cluster,
    validate_node_pool,
)

NOW = "2026-01-01T00:00:00Z"
HOST = "http://127.0.0.1:8080"
SEED: dict[str, Any] = {
    "name": "gke-ml-dev",
    "initialNodeCount": 2,
    "network": "projects/p/global/networks/ml-vpc",
    "subnetwork": "projects/p/regions/us-central1/subnetworks/sub-1",
    "ipAllocationPolicy": {},
    "privateClusterConfig": {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": True,
        "masterIpv4CidrBlock": "172.16.0.32/28",
    },
    "autoscaling": {
        "enableNodeAutoprovisioning": True,
        "resourceLimits": [{"resourceType": "cpu", "minimum": 4, "maximum": "600"}],
    },
    "workloadIdentityConfig": {"workloadPool": "p.svc.id.goog"},
    "addonsConfig": {"gcpFilestoreCsiDriverConfig": {"enabled": True}},
    "costManagementConfig": {"enabled": True},
}
GPU_POOL: dict[str, Any] = {
    "name": "gpu-spot",
    "initialNodeCount": 1,
    "autoscaling": {"enabled": True, "totalMinNodeCount": 0, "totalMaxNodeCount": 24},
    "config": {
        "machineType": "g2-standard-24",
        "spot": True,
        "accelerators": [
            {
                "acceleratorType": "nvidia-l4",
                "acceleratorCount": 2,
                "gpuDriverInstallationConfig": {"gpuDriverVersion": "LATEST"},
            }
        ],
        "taints": [{"key": "spot", "value": "true", "effect": "NO_SCHEDULE"}],
        "reservationAffinity": {"consumeReservationType": "NO_RESERVATION"},
        "labels": {"spot": "true"},
    },
}


def make_cluster(location: str = "us-central1", **changes: Any) -> dict[str, Any]:
    body = {**copy.deepcopy(SEED), **changes}
    return new_cluster("p", location, body, now=NOW, project_number="123", host=HOST)


def error_of(call: Any, *args: Any, **kwargs: Any) -> ModelError:
    with pytest.raises(ModelError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_created_cluster_carries_the_server_side_defaults() -> None:
    c = make_cluster()
    assert c["status"] == "PROVISIONING" and c["createTime"] == NOW
    assert c["selfLink"] == f"{HOST}/v1/projects/p/locations/us-central1/clusters/gke-ml-dev"
    assert re.fullmatch(r"[0-9a-f]{64}", c["id"]) and c["zone"] == c["location"] == "us-central1"
    assert c["locations"] == ["us-central1-a", "us-central1-b", "us-central1-c"]
    regular = CHANNEL_VERSIONS["REGULAR"]
    assert c["releaseChannel"] == {"channel": "REGULAR"}
    assert c["currentMasterVersion"] == c["currentNodeVersion"] == regular
    assert c["initialClusterVersion"] == regular
    private = c["privateClusterConfig"]
    assert private["privateEndpoint"] == "172.16.0.34" == c["endpoint"]
    assert re.fullmatch(r"gke-n[0-9a-f]{16}-[0-9a-f]{4}-[0-9a-f]{4}-peer", private["peeringName"])
    assert re.fullmatch(r"34\.\d+\.\d+\.\d+", private["publicEndpoint"])
    # as Google answers a private cluster (Config Connector's recordings)
    assert c["masterAuthorizedNetworksConfig"] == {
        "enabled": True,
        "gcpPublicCidrsAccessEnabled": False,
    }
    assert (c["network"], c["subnetwork"]) == ("ml-vpc", "sub-1")
    assert c["networkConfig"] == {
        "network": "projects/p/global/networks/ml-vpc",
        "subnetwork": "projects/p/regions/us-central1/subnetworks/sub-1",
        "datapathProvider": "LEGACY_DATAPATH",
        "serviceExternalIpsConfig": {},
        "defaultEnablePrivateNodes": True,  # the new view of privateClusterConfig, mirrored
    }
    policy = c["ipAllocationPolicy"]
    assert policy["useIpAliases"] and policy["clusterIpv4CidrBlock"] == c["clusterIpv4Cidr"]
    assert policy["clusterSecondaryRangeName"].startswith("gke-gke-ml-dev-pods-")
    assert c["servicesIpv4Cidr"] == "34.118.224.0/20"
    assert c["loggingService"] == "logging.googleapis.com/kubernetes"
    assert c["monitoringConfig"]["managedPrometheusConfig"] == {"enabled": True}
    assert c["addonsConfig"]["httpLoadBalancing"] == {}
    assert c["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": True}
    assert c["addonsConfig"]["kubernetesDashboard"] == {"disabled": True}
    assert c["shieldedNodes"] == {"enabled": True} and c["legacyAbac"] == {}
    assert c["databaseEncryption"]["currentState"] == "CURRENT_STATE_DECRYPTED"
    assert c["masterAuth"]["clusterCaCertificate"]
    assert c["workloadIdentityConfig"] == {"workloadPool": "p.svc.id.goog"}
    assert c["costManagementConfig"] == {"enabled": True}  # kept as given
    assert c["labelFingerprint"] == "a9dc16a7" and re.fullmatch(r"[0-9a-f-]{36}", c["etag"])
    nap = c["autoscaling"]
    assert nap["resourceLimits"][0] == {"resourceType": "cpu", "minimum": "4", "maximum": "600"}
    assert nap["autoprovisioningNodePoolDefaults"]["management"]["autoUpgrade"] is True
    assert nap["autoscalingProfile"] == "BALANCED"


def test_the_default_pool_comes_from_initial_node_count_and_node_config() -> None:
    c = make_cluster(nodeConfig={"machineType": "n2-standard-4", "labels": {"a": "b"}})
    assert c["initialNodeCount"] == 2  # kept as asked, as GKE answers it
    [pool] = c["nodePools"]
    assert pool["name"] == "default-pool" and pool["initialNodeCount"] == 2
    assert c["currentNodeCount"] == 6 and len(c["instanceGroupUrls"]) == 3
    config = pool["config"]
    assert config["machineType"] == "n2-standard-4" and config["labels"] == {"a": "b"}
    assert config["diskSizeGb"] == 100 and config["diskType"] == "pd-balanced"
    assert config["imageType"] == "COS_CONTAINERD" and config["serviceAccount"] == "default"
    assert config["metadata"] == {"disable-legacy-endpoints": "true"}
    assert config["oauthScopes"]
    assert config["resourceLabels"] == {"goog-gke-node-pool-provisioning-model": "on-demand"}
    assert c["nodeConfig"] == config
    assert pool["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert pool["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1}
    assert pool["podIpv4CidrSize"] == 24 and pool["networkConfig"]["enablePrivateNodes"]
    assert pool["selfLink"] == c["selfLink"] + "/nodePools/default-pool"


def test_given_node_pools_replace_the_default_pool() -> None:
    body = {k: v for k, v in SEED.items() if k != "initialNodeCount"}
    c = new_cluster(
        "p",
        "us-central1-a",
        {**body, "nodePools": [GPU_POOL]},
        now=NOW,
        project_number="123",
        host=HOST,
    )
    assert [p["name"] for p in c["nodePools"]] == ["gpu-spot"]
    assert c["selfLink"].endswith("/zones/us-central1-a/clusters/gke-ml-dev")
    assert c["locations"] == ["us-central1-a"] and c["currentNodeCount"] == 1


@pytest.mark.parametrize(
    ("given", "channel", "version"),
    [
        ({"releaseChannel": {"channel": "RAPID"}}, "RAPID", CHANNEL_VERSIONS["RAPID"]),
        ({"releaseChannel": {"channel": "EXTENDED"}}, "EXTENDED", CHANNEL_VERSIONS["EXTENDED"]),
        ({"initialClusterVersion": "1.32"}, "STABLE", CHANNEL_VERSIONS["STABLE"]),
        ({"releaseChannel": {}, "initialClusterVersion": "1.30"}, None, "1.30.14-gke.1150000"),
    ],
)
def test_versions_follow_the_release_channel(
    given: dict[str, Any], channel: str | None, version: str
) -> None:
    c = make_cluster(**given)
    assert c["releaseChannel"] == ({"channel": channel} if channel else {})
    assert c["currentMasterVersion"] == version == c["nodePools"][0]["version"]


def test_secondary_range_names_resolve_to_their_cidrs() -> None:
    policy = {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "svc"}
    body = {**SEED, "ipAllocationPolicy": policy}
    ranges = {"pods": "10.8.0.0/14", "svc": "10.12.0.0/20"}
    c = new_cluster(
        "p", "us-central1", body, now=NOW, project_number="1", host=HOST, secondary_ranges=ranges
    )
    assert (c["clusterIpv4Cidr"], c["servicesIpv4Cidr"]) == ("10.8.0.0/14", "10.12.0.0/20")
    assert c["nodePools"][0]["networkConfig"]["podRange"] == "pods"


def test_a_gpu_spot_pool_keeps_what_was_asked_and_normalizes_int64() -> None:
    pool = new_node_pool(make_cluster(), GPU_POOL, now=NOW, host=HOST)
    config = pool["config"]
    assert config["spot"] is True and config["taints"] == GPU_POOL["config"]["taints"]
    [accelerator] = config["accelerators"]
    assert accelerator["acceleratorCount"] == "2"  # int64: stored as a string
    assert accelerator["gpuDriverInstallationConfig"] == {"gpuDriverVersion": "LATEST"}
    assert config["reservationAffinity"] == {"consumeReservationType": "NO_RESERVATION"}
    assert config["resourceLabels"]["goog-gke-node-pool-provisioning-model"] == "spot"
    assert pool["autoscaling"]["locationPolicy"] == "BALANCED"
    assert pool["locations"] == ["us-central1-a", "us-central1-b", "us-central1-c"]
    assert pool["status"] == "PROVISIONING" and pool["version"] == CHANNEL_VERSIONS["REGULAR"]


BAD = "INVALID_ARGUMENT"


def private(**config: Any) -> dict[str, Any]:
    return {"privateClusterConfig": {"enablePrivateNodes": True, **config}}


CLUSTER_ERRORS = [
    ({"name": ""}, BAD, "Invalid value for field 'cluster.name'"),
    ({"name": "Bad_Name"}, BAD, "Must be a match of regex"),
    ({"name": "a" * 41}, BAD, "no longer than 40 characters"),
    ({"name": "ends-with-"}, BAD, "cluster.name"),
    ({"name": "taken"}, "ALREADY_EXISTS", "Already exists: projects/p/locations/l/clusters/taken."),
    (private(), BAD, 'Unable to parse cluster.master_ipv4_cidr ""'),
    (private(masterIpv4CidrBlock="10.0.0.0/24"), BAD, "must be a /28"),
    (
        private(masterIpv4CidrBlock="10.0.0.0/28", privateEndpointSubnetwork="s"),
        BAD,
        "must be unset",
    ),
    ({"nodePools": [{"name": "x"}]}, BAD, "cannot be set together"),
    ({"initialNodeCount": 0}, BAD, "initial_node_count must be greater than zero"),
    ({"initialClusterVersion": "banana"}, BAD, 'Master version "banana"'),
    ({"autoscaling": {"resourceLimits": [{"minimum": "9", "maximum": "1"}]}}, BAD, "exceeds"),
    ({"nodeConfig": {"spot": True, "preemptible": True}}, BAD, "Spot and preemptible"),
]


@pytest.mark.parametrize(("change", "code", "message"), CLUSTER_ERRORS)
def test_cluster_validation(change: dict[str, Any], code: str, message: str) -> None:
    error = error_of(validate_cluster, "p", "l", {**SEED, **change}, existing={"taken"})
    assert (error.code, message in error.message) == (code, True), error.message


def test_valid_clusters_pass_including_psc_private_nodes() -> None:
    validate_cluster("p", "l", SEED)
    psc = {
        "enablePrivateNodes": True,
        "privateEndpointSubnetwork": "projects/p/regions/r/subnetworks/s",
    }
    validate_cluster("p", "l", {**SEED, "privateClusterConfig": psc})
    body = {k: v for k, v in SEED.items() if k != "initialNodeCount"}
    validate_cluster("p", "l", {**body, "nodePools": [GPU_POOL, {**GPU_POOL, "name": "other"}]})
    error = error_of(validate_cluster, "p", "l", {**body, "nodePools": [GPU_POOL, GPU_POOL]})
    assert error.code == "ALREADY_EXISTS"
    manual = {**GPU_POOL, "management": {"autoRepair": True}}
    error = error_of(validate_cluster, "p", "l", {**body, "nodePools": [manual]})
    assert "Auto-upgrade must be enabled" in error.message
    validate_cluster("p", "l", {**body, "nodePools": [manual], "releaseChannel": {}})


GOOD_GPUS = [
    line.split()
    for line in """g2-standard-4 nvidia-l4 1
        g2-standard-8 nvidia-l4 1
        g2-standard-12 nvidia-l4 1
        g2-standard-16 nvidia-l4 1
        g2-standard-32 nvidia-l4 1
        g2-standard-24 nvidia-l4 2
        g2-standard-48 nvidia-l4 4
        g2-standard-96 nvidia-l4 8
        a2-highgpu-2g nvidia-tesla-a100 2
        a2-megagpu-16g nvidia-tesla-a100 16
        a2-ultragpu-1g nvidia-a100-80gb 1
        a3-highgpu-8g nvidia-h100-80gb 8
        n1-standard-8 nvidia-tesla-t4 4
        n1-highmem-8 nvidia-tesla-v100 8
        n1-standard-4 nvidia-tesla-p100 2
        n1-standard-4 nvidia-tesla-p4 1""".splitlines()
]
BAD_GPUS = [
    line.split(maxsplit=3)
    for line in """g2-standard-8 nvidia-l4 2 are: [1]
        g2-standard-24 nvidia-l4 1 are: [2]
        g2-standard-8 nvidia-tesla-t4 1 not supported
        e2-medium nvidia-l4 1 default machine type (e2-medium)
        n1-standard-8 nvidia-tesla-t4 8 are: [1, 2, 4]
        n2-standard-8 nvidia-tesla-t4 1 not supported
        a2-highgpu-1g nvidia-tesla-a100 2 are: [1]
        a2-highgpu-1g nvidia-l4 1 not supported""".splitlines()
]


@pytest.mark.parametrize(("machine", "gpu", "count"), GOOD_GPUS)
def test_accepted_accelerator_combinations(machine: str, gpu: str, count: str) -> None:
    accelerators = [{"acceleratorType": gpu, "acceleratorCount": count}]
    validate_node_pool(
        {"name": "gpu", "config": {"machineType": machine, "accelerators": accelerators}}
    )


@pytest.mark.parametrize(("machine", "gpu", "count", "message"), BAD_GPUS)
def test_refused_accelerator_combinations(machine: str, gpu: str, count: str, message: str) -> None:
    accelerators = [{"acceleratorType": gpu, "acceleratorCount": int(count)}]
    config = {"machineType": machine, "accelerators": accelerators}
    error = error_of(validate_node_pool, {"name": "gpu", "config": config})
    assert error.code == "INVALID_ARGUMENT" and message in error.message, error.message


POOL_ERRORS = [
    (
        {"config": {"taints": [{"key": "k", "effect": "EFFECT_UNSPECIFIED"}]}},
        "effect must be one of",
    ),
    ({"config": {"taints": [{"key": "k"}]}}, 'effect "EFFECT_UNSPECIFIED"'),
    ({"config": {"taints": [{"effect": "NO_SCHEDULE"}]}}, "the key is"),
    ({"autoscaling": {"enabled": True, "minNodeCount": 3, "maxNodeCount": 1}}, "minNodeCount 3"),
    (
        {"autoscaling": {"enabled": True, "totalMinNodeCount": 5, "totalMaxNodeCount": 2}},
        "totalMin",
    ),
    ({"autoscaling": {"enabled": True, "minNodeCount": 1, "totalMaxNodeCount": 2}}, "cannot mix"),
    (
        {"config": {"reservationAffinity": {"consumeReservationType": "SPECIFIC_RESERVATION"}}},
        "needs a key and values",
    ),
    ({"name": "Pool"}, "node_pool.name"),
]


@pytest.mark.parametrize(("change", "message"), POOL_ERRORS)
def test_node_pool_validation(change: dict[str, Any], message: str) -> None:
    error = error_of(validate_node_pool, {"name": "p1", **change})
    assert error.code == "INVALID_ARGUMENT" and message in error.message, error.message


def test_node_pools_are_checked_against_their_cluster() -> None:
    c = make_cluster()
    error = error_of(validate_node_pool, {"name": "default-pool"}, c)
    assert (
        error.code == "ALREADY_EXISTS"
        and "clusters/gke-ml-dev/nodePools/default-pool" in error.message
    )
    error = error_of(validate_node_pool, {"name": "x", "management": {"autoRepair": True}}, c)
    assert "Auto-upgrade must be enabled" in error.message
    validate_node_pool(
        {"name": "x", "management": {"autoRepair": True}}, make_cluster(releaseChannel={})
    )
    assert ModelError("ALREADY_EXISTS", "x").http_status == 409
    assert ModelError("FAILED_PRECONDITION", "x").http_status == 400


def test_everything_emitted_parses_as_the_official_types() -> None:
    """Strict proto-plus parsing: every emitted field exists in container_v1 with its type."""
    body = {k: v for k, v in SEED.items() if k != "initialNodeCount"}
    default = {
        "name": "default-pool",
        "initialNodeCount": 1,
        "config": {"machineType": "e2-standard-4"},
    }
    c = new_cluster(
        "p",
        "us-central1",
        {**body, "nodePools": [default, GPU_POOL], "resourceLabels": {"env": "dev"}},
        now=NOW,
        project_number="1",
        host=HOST,
    )
    c = upd.set_labels(c, {"env": "prod"}, c["labelFingerprint"])
    c = upd.update_node_pool(
        c, "gpu-spot", {"labels": {"labels": {"a": "b"}}, "nodeVersion": "1.33"}
    )
    c = upd.set_status(upd.set_size(c, "default-pool", 3), "RUNNING")
    networks = {"enabled": True, "cidrBlocks": [{"cidrBlock": "10.0.0.0/8"}]}
    c = upd.apply_cluster_update(c, {"desiredMasterAuthorizedNetworksConfig": networks})
    routes = make_cluster(
        "europe-west1-b", ipAllocationPolicy={"useRoutes": True}, releaseChannel={}
    )
    psc = make_cluster(**private(privateEndpointSubnetwork="projects/p/regions/r/subnetworks/s"))
    for cluster in (c, routes, psc):
        parsed = container_v1.Cluster.from_json(json.dumps(cluster), ignore_unknown_fields=False)
        assert parsed.name == cluster["name"]
    pool = container_v1.NodePool.from_json(
        json.dumps(c["nodePools"][1]), ignore_unknown_fields=False
    )
    assert pool.config.accelerators[0].accelerator_count == 2
    assert pool.config.taints[0].effect == container_v1.NodeTaint.Effect.NO_SCHEDULE
    op = ops.new_operation(
        "CREATE_NODE_POOL", "p", "us-central1", pool.self_link, now=NOW, host=HOST
    )
    failed = ops.finish_operation(op, ModelError("RESOURCE_EXHAUSTED", "quota"), now=NOW)
    parsed_op = container_v1.Operation.from_json(json.dumps(failed), ignore_unknown_fields=False)
    assert parsed_op.status == container_v1.Operation.Status.DONE and parsed_op.error.code == 8
