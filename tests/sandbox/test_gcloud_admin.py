"""A GKE admin's gcloud session against a project with the platform's private cluster: the VMs,
firewall rules, routes, peering and quotas GKE leaves in Compute Engine, the server config,
billing accounts and service account keys; and the shapes other clients see (billing of an
unlinked project, IAM's 404, auto-mode subnets, partial responses, service dependencies)."""

from __future__ import annotations

import ipaddress
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import compute_v1

from sandbox.cloud import Sandbox
from tests.sandbox import gke_setup as gke
from tests.sandbox.conftest import BILLING_ACCOUNT, Clients
from tests.sandbox.test_gcloud import gcloud

pytestmark = [
    pytest.mark.skipif(shutil.which("gcloud") is None, reason="gcloud is not installed"),
    pytest.mark.timeout(240),
]
P = "gcloud-admin-1"
NODES = f"{gke.NODE_ACCOUNT}@{P}.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Clients, dict[str, Any]]]:
    """A sandbox with the platform's project and cluster (a system pool of 1 node per zone)."""
    with Sandbox(tmp_path_factory.mktemp("gcloud-admin") / "state") as sandbox:
        clients = Clients(sandbox)
        gke.gke_project(clients, P)
        gke.create_cluster(sandbox, P)
        cluster = gke.container(sandbox).get_cluster(
            name=f"projects/{P}/locations/{gke.REGION}/clusters/ml-dev"
        )
        yield (
            clients,
            {
                "id": cluster.id,
                "peering": cluster.private_cluster_config.peering_name,
                "master": cluster.private_cluster_config.master_ipv4_cidr_block,
                "pods": cluster.cluster_ipv4_cidr,
            },
        )


def _run(clients: Clients, *args: str) -> Any:
    return gcloud(clients.sandbox.state_dir, *args, "--project", P)


def test_instances_are_the_node_pool_vms(admin: tuple[Clients, dict[str, Any]]) -> None:
    clients, _ = admin
    vms = _run(clients, "compute", "instances", "list")
    pattern = re.compile(r"^gke-ml-dev-system-[0-9a-f]{8}-[a-z]{4}$")
    assert all(pattern.match(vm["name"]) for vm in vms), [vm["name"] for vm in vms]
    assert sorted(vm["zone"].rsplit("/", 1)[1] for vm in vms) == [
        "us-central1-a",
        "us-central1-b",
        "us-central1-c",
    ]
    subnet = ipaddress.ip_network("10.0.0.0/20")
    for vm in vms:
        assert vm["status"] == "RUNNING"
        assert vm["machineType"].endswith("/machineTypes/e2-standard-4")
        assert ipaddress.ip_address(vm["networkInterfaces"][0]["networkIP"]) in subnet
        assert vm["serviceAccounts"][0]["email"] == NODES
        assert vm["labels"]["goog-k8s-node-pool-name"] == "system"
    assert len({vm["networkInterfaces"][0]["networkIP"] for vm in vms}) == 3
    boot = vms[0]["disks"][0]["source"].rsplit("/", 3)
    disk = clients.compute(compute_v1.DisksClient).get(project=P, zone=boot[1], disk=boot[3])
    assert (disk.size_gb, disk.users) == (100, [vms[0]["selfLink"]])

    # The VM count follows the pool's size (nodes per zone × zones).
    client = gke.container(clients.sandbox)
    pool = f"projects/{P}/locations/{gke.REGION}/clusters/ml-dev/nodePools/system"
    op = client.set_node_pool_size(request={"name": pool, "node_count": 2})
    gke.finish(client, P, gke.REGION, op)
    listed = clients.compute(compute_v1.InstancesClient).aggregated_list(project=P)
    names = [vm.name for _, scoped in listed for vm in scoped.instances]
    assert len(names) == len(set(names)) == 6
    op = client.set_node_pool_size(request={"name": pool, "node_count": 1})
    gke.finish(client, P, gke.REGION, op)


def test_firewall_rules_gke_creates(admin: tuple[Clients, dict[str, Any]]) -> None:
    clients, cluster = admin
    # What GKE's docs have an admin add for webhooks behind a private control plane.
    _run(
        clients,
        "compute",
        "firewall-rules",
        "create",
        "allow-webhooks",
        "--network",
        gke.NETWORK,
        "--allow",
        "tcp:8443",
        "--source-ranges",
        cluster["master"],
    )
    rules = {rule["name"]: rule for rule in _run(clients, "compute", "firewall-rules", "list")}
    prefix = f"gke-ml-dev-{cluster['id'][:8]}"
    assert set(rules) == {
        "allow-webhooks",
        *(f"{prefix}-{s}" for s in ("master", "vms", "all", "inkubelet", "exkubelet")),
    }
    webhooks = rules["allow-webhooks"]
    assert (webhooks["direction"], webhooks["priority"], webhooks["sourceRanges"]) == (
        "INGRESS",
        1000,
        [cluster["master"]],
    )
    assert webhooks["allowed"] == [{"IPProtocol": "tcp", "ports": ["8443"]}]
    master = rules[f"{prefix}-master"]
    assert master["sourceRanges"] == [cluster["master"]]
    assert master["allowed"] == [{"IPProtocol": "tcp", "ports": ["10250", "443"]}]
    assert master["targetTags"] == [f"{prefix}-node"]
    assert master["network"].endswith(f"/projects/{P}/global/networks/{gke.NETWORK}")
    assert rules[f"{prefix}-all"]["sourceRanges"] == [cluster["pods"]]
    assert rules[f"{prefix}-vms"]["sourceRanges"] == ["10.0.0.0/20"]
    assert rules[f"{prefix}-exkubelet"]["denied"] == [{"IPProtocol": "tcp", "ports": ["10255"]}]
    assert rules[f"{prefix}-inkubelet"]["priority"] == 999


def test_routes_peering_and_regions(admin: tuple[Clients, dict[str, Any]]) -> None:
    clients, cluster = admin
    routes = _run(clients, "compute", "routes", "list")
    assert sorted(route["destRange"] for route in routes) == [
        "0.0.0.0/0",
        "10.0.0.0/20",
        "10.4.0.0/14",
        "10.8.0.0/20",
    ]
    internet = next(route for route in routes if route["destRange"] == "0.0.0.0/0")
    assert internet["nextHopGateway"].endswith("/global/gateways/default-internet-gateway")
    assert all(re.fullmatch(r"default-route-[0-9a-f]{16}", route["name"]) for route in routes)

    peerings = _run(clients, "compute", "networks", "peerings", "list")
    assert [(n["name"], [(p["name"], p["state"]) for p in n["peerings"]]) for n in peerings] == [
        (gke.NETWORK, [(cluster["peering"], "ACTIVE")])
    ]

    region = _run(clients, "compute", "regions", "describe", gke.REGION)
    quotas = {quota["metric"]: quota for quota in region["quotas"]}
    assert quotas["CPUS"]["usage"] == 12.0  # 3 × e2-standard-4
    assert [zone.rsplit("/", 1)[1] for zone in region["zones"]] == [
        f"{gke.REGION}-{suffix}" for suffix in "abcf"
    ]


def test_server_config_billing_accounts_and_keys(admin: tuple[Clients, dict[str, Any]]) -> None:
    clients, _ = admin
    config = _run(clients, "container", "get-server-config", "--location", gke.REGION)
    assert config["validMasterVersions"]
    assert {c["channel"] for c in config["channels"]} >= {"RAPID", "REGULAR", "STABLE"}

    accounts = gcloud(clients.sandbox.state_dir, "billing", "accounts", "list")
    assert [(a["name"], a["open"]) for a in accounts] == [(BILLING_ACCOUNT, True)]

    iam = clients.sandbox.url("iam")
    key = clients.rest().post(f"{iam}/v1/projects/-/serviceAccounts/{NODES}/keys", json={})
    assert key.status_code == 200, key.text
    keys = _run(clients, "iam", "service-accounts", "keys", "list", "--iam-account", NODES)
    assert [(k["name"], k["keyType"]) for k in keys] == [(key.json()["name"], "USER_MANAGED")]


def test_shapes_other_clients_see(admin: tuple[Clients, dict[str, Any]]) -> None:
    clients, cluster = admin
    session, url = clients.rest(), clients.sandbox.url

    clients.create_project("unbilled-1")
    info = session.get(f"{url('cloudbilling')}/v1/projects/unbilled-1/billingInfo").json()
    assert (info["billingEnabled"], info["billingAccountName"]) == (False, "")

    missing = session.get(
        f"{url('iam')}/v1/projects/{P}/serviceAccounts/nobody@{P}.iam.gserviceaccount.com"
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["errors"] == [
        {"message": "Unknown service account", "domain": "global", "reason": "notFound"}
    ]

    networks = clients.compute(compute_v1.NetworksClient)
    op = networks.insert(
        project=P, network_resource=compute_v1.Network(name="auto", auto_create_subnetworks=True)
    )
    clients.wait(op, P)
    subnets = clients.compute(compute_v1.SubnetworksClient)
    central = subnets.get(project=P, region="us-central1", subnetwork="auto")
    assert (central.ip_cidr_range, central.gateway_address) == ("10.128.0.0/20", "10.128.0.1")
    auto = [s for _, scoped in subnets.aggregated_list(project=P) for s in scoped.subnetworks]
    auto = [s for s in auto if s.name == "auto"]
    assert len(auto) == 41
    block = ipaddress.ip_network("10.128.0.0/9")
    assert all(ipaddress.ip_network(s.ip_cidr_range).subnet_of(block) for s in auto)

    partial = session.get(
        f"{url('container')}/v1/projects/{P}/locations/{gke.REGION}/clusters/ml-dev",
        params={"fields": "name,privateClusterConfig(peeringName),nodePools/name"},
    ).json()
    assert partial == {
        "name": "ml-dev",
        "privateClusterConfig": {"peeringName": cluster["peering"]},
        "nodePools": [{"name": "system"}],
    }
    bad = session.get(f"{url('compute')}/compute/v1/projects/{P}/regions", params={"fields": "a("})
    assert bad.status_code == 400

    usage = f"{url('serviceusage')}/v1/projects/{P}/services"
    enabled = session.post(f"{usage}/anthos.googleapis.com:enable")
    assert enabled.status_code == 200, enabled.text
    unknown = session.post(f"{usage}/nothing-here.googleapis.com:enable")
    assert unknown.status_code == 403
    states = {
        name: session.get(f"{usage}/{name}").json()["state"]
        for name in (
            "anthos.googleapis.com",
            "iamcredentials.googleapis.com",
            "oslogin.googleapis.com",
        )
    }
    assert set(states.values()) == {"ENABLED"}, states  # the last two came with container
