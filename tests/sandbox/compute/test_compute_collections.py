"""What every Compute collection answers alike, over the wire: a missing item's 404 names its
path, a list is `compute#<kind>List` with its own path as id, `filter` and `maxResults` apply,
an aggregated list is keyed by scope, and a list in a zone that does not exist is 404 where
Google says so."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.conftest import Clients

# (collection path under the project, kind of one item)
COLLECTIONS = [
    ("global/networks", "network"),
    ("global/firewalls", "firewall"),
    ("global/routes", "route"),
    ("regions/us-central1/subnetworks", "subnetwork"),
    ("regions/us-central1/routers", "router"),
    ("zones/us-central1-a/reservations", "reservation"),
    ("zones/us-central1-a/disks", "disk"),
    ("zones/us-central1-a/instances", "instance"),
    ("regions", "region"),
    ("zones", "zone"),
]


def _get(clients: Clients, path: str, **params: Any) -> tuple[int, dict[str, Any]]:
    url = f"{clients.sandbox.url('compute')}/compute/v1/{path}"
    response = clients.rest().get(url, params=params)
    return response.status_code, response.json()


@pytest.mark.parametrize(("path", "kind"), COLLECTIONS)
def test_a_missing_item_is_404_naming_its_path(
    clients: Clients, compute_project: str, path: str, kind: str
) -> None:
    status, body = _get(clients, f"projects/{compute_project}/{path}/absent")
    assert status == 404
    message = f"The resource 'projects/{compute_project}/{path}/absent' was not found"
    assert body["error"]["message"] == message


@pytest.mark.parametrize(("path", "kind"), COLLECTIONS)
def test_a_list_names_its_kind_and_path(
    clients: Clients, compute_project: str, path: str, kind: str
) -> None:
    status, body = _get(clients, f"projects/{compute_project}/{path}")
    assert status == 200
    assert body["kind"] == f"compute#{kind}List"
    assert body["id"] == f"projects/{compute_project}/{path}"
    assert body["selfLink"].endswith(f"/compute/v1/projects/{compute_project}/{path}")


def test_filter_and_pages_apply_to_derived_items(clients: Clients, compute_project: str) -> None:
    base = f"projects/{compute_project}/zones"
    status, body = _get(clients, base, filter='name = "us-east1-b"')
    assert (status, [z["name"] for z in body["items"]]) == (200, ["us-east1-b"])
    status, first = _get(clients, base, maxResults=2)
    assert len(first["items"]) == 2 and first["nextPageToken"]
    _, second = _get(clients, base, maxResults=2, pageToken=first["nextPageToken"])
    assert second["items"][0]["name"] not in {z["name"] for z in first["items"]}
    status, region = _get(clients, f"projects/{compute_project}/regions/us-east1")
    assert (status, region["kind"], region["status"]) == (200, "compute#region", "UP")


@pytest.mark.parametrize(
    ("collection", "unknown_zone_answer"),
    [("disks", 404), ("instances", 404), ("reservations", 200)],
)
def test_a_list_in_a_zone_that_does_not_exist(
    clients: Clients, compute_project: str, collection: str, unknown_zone_answer: int
) -> None:
    status, _ = _get(clients, f"projects/{compute_project}/zones/mars-north1-a/{collection}")
    assert status == unknown_zone_answer


@pytest.mark.parametrize(("path", "kind"), [c for c in COLLECTIONS if c[0].count("/") == 2])
def test_an_empty_aggregated_list(
    clients: Clients, compute_project: str, path: str, kind: str
) -> None:
    collection = path.rsplit("/", 1)[-1]
    status, body = _get(clients, f"projects/{compute_project}/aggregated/{collection}")
    assert status == 200
    assert body["id"] == f"projects/{compute_project}/aggregated/{collection}"
    assert (body["kind"], body["items"]) == (f"compute#{kind}AggregatedList", {})
