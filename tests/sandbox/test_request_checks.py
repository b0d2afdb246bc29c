"""Requests are checked against the official discovery documents, as Google's front end does."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import compute_v1

from sandbox.discovery import load
from sandbox.enumnumbers import EnumNumbers
from sandbox.errors import ApiError
from sandbox.schema import SchemaChecker
from tests.sandbox.conftest import Clients


def _call(url: str, method: str = "GET", body: Any = None) -> tuple[int, dict[str, Any]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_unknown_top_level_field_names_the_resource(clients: Clients) -> None:
    base = clients.sandbox.url("cloudresourcemanager")
    status, body = _call(f"{base}/v3/projects", "POST", {"projectId": "p-123456", "colour": 1})
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"
    assert body["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"colour\" at 'project': Cannot find field."
    )
    violation = body["error"]["details"][0]["fieldViolations"][0]
    assert violation["field"] == "project"


def test_unknown_nested_field_names_its_path(clients: Clients, compute_project: str) -> None:
    base = clients.sandbox.url("compute")
    subnet = {
        "name": "s",
        "network": "global/networks/vpc",
        "ipCidrRange": "10.0.0.0/24",
        "secondaryIpRanges": [{"rangeName": "pods", "ipCidrRange": "10.1.0.0/16", "size": 3}],
    }
    url = f"{base}/compute/v1/projects/{compute_project}/regions/us-central1/subnetworks"
    status, body = _call(url, "POST", subnet)
    assert status == 400
    assert (
        "Unknown name \"size\" at 'subnetwork_resource.secondary_ip_ranges[0]'"
        in (body["error"]["message"])
    )
    # Compute-style bodies also carry the legacy `errors` list.
    assert body["error"]["errors"][0]["reason"] == "invalid"


def test_wrong_types_are_refused(clients: Clients) -> None:
    base = clients.sandbox.url("cloudresourcemanager")
    status, body = _call(f"{base}/v3/projects", "POST", {"projectId": 12})
    assert status == 400
    assert body["error"]["message"] == "Invalid value at 'project.project_id' (TYPE_STRING), 12"


def test_unknown_query_parameter_is_refused(clients: Clients) -> None:
    base = clients.sandbox.url("cloudresourcemanager")
    status, body = _call(f"{base}/v3/projects:search?query=id:x&colour=red")
    assert status == 400
    assert 'Unknown name "colour": Cannot bind query parameter' in body["error"]["message"]
    # System parameters are always accepted.
    status, _ = _call(f"{base}/v3/projects:search?$alt=json;enum-encoding=int&prettyPrint=false")
    assert status == 200


def test_routes_come_from_discovery(clients: Clients) -> None:
    base = clients.sandbox.url("serviceusage")
    status, body = _call(f"{base}/v1/no/such/path/here")
    assert status == 404
    status, body = _call(f"{base}/v1/operations")  # real method, not emulated
    assert status == 501
    assert "serviceusage.operations.list" in body["error"]["message"]


def test_other_compute_methods_are_unimplemented(clients: Clients, compute_project: str) -> None:
    addresses = clients.compute(compute_v1.AddressesClient)
    with pytest.raises(exceptions.MethodNotImplemented):
        addresses.list(project=compute_project, region="us-central1")


# The checker on its own, with the Container API's discovery document (its enums have gaps).
CONTAINER = SchemaChecker(
    load("container.v1"), EnumNumbers("google.container.v1", "google.cloud.container_v1")
)
CREATE_CLUSTER = load("container.v1").methods["container.projects.locations.clusters.create"]


def test_enums_are_accepted_as_numbers_and_stored_as_names() -> None:
    body = {
        "cluster": {
            "name": "c",
            "releaseChannel": {"channel": 2},
            # GatewayAPIConfig.Channel numbers skip 2: CHANNEL_STANDARD is 4, not index 3.
            "networkConfig": {"datapathProvider": 2, "gatewayApiConfig": {"channel": 4}},
        }
    }
    checked = CONTAINER.body(CREATE_CLUSTER, body)
    assert checked["cluster"]["releaseChannel"] == {"channel": "REGULAR"}
    assert checked["cluster"]["networkConfig"] == {
        "datapathProvider": "ADVANCED_DATAPATH",
        "gatewayApiConfig": {"channel": "CHANNEL_STANDARD"},
    }
    named = CONTAINER.body(CREATE_CLUSTER, {"cluster": {"releaseChannel": {"channel": "STABLE"}}})
    assert named["cluster"]["releaseChannel"] == {"channel": "STABLE"}


def test_int64_snake_case_null_and_output_only() -> None:
    body = {
        "cluster": {
            "initial_node_count": "3",  # snake_case key, int32 as a string
            "nodeConfig": {"diskSizeGb": 100, "labels": {"a": "b"}},
            "autoscaling": {"resourceLimits": [{"resourceType": "cpu", "maximum": 64}]},
            "status": "RUNNING",  # output only: dropped
            "description": None,  # null = absent
        }
    }
    checked = CONTAINER.body(CREATE_CLUSTER, body)["cluster"]
    assert checked["initialNodeCount"] == 3
    assert checked["autoscaling"]["resourceLimits"][0]["maximum"] == "64"  # int64 → string
    assert "status" not in checked and "description" not in checked


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"cluster": {"nodePools": [{"nmae": "x"}]}},
            "Unknown name \"nmae\" at 'cluster.node_pools[0]'",
        ),
        ({"clustr": {}}, 'Unknown name "clustr": Cannot find field.'),
        (
            {"cluster": {"releaseChannel": {"channel": 9}}},
            "Invalid value at 'cluster.release_channel.channel'",
        ),
        ({"cluster": {"initialNodeCount": "many"}}, "(TYPE_INT32)"),
        ({"cluster": {"enableKubernetesAlpha": "yes"}}, "(TYPE_BOOL)"),
        ({"cluster": "c"}, "Invalid value at 'cluster'"),
    ],
)
def test_bad_bodies_are_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError) as caught:
        CONTAINER.body(CREATE_CLUSTER, body)
    assert caught.value.code == 400
    assert message in caught.value.message
