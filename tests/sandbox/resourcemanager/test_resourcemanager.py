"""Resource Manager v3 through the official client (REST), and its wire shapes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from google.api_core import exceptions
from google.cloud import resourcemanager_v3
from google.protobuf import field_mask_pb2

from tests.sandbox.conftest import Clients

State = resourcemanager_v3.Project.State


def test_project_lifecycle(clients: Clients) -> None:
    rm = clients.projects
    operation = rm.create_project(
        project=resourcemanager_v3.Project(
            project_id="ml-dev-123", parent="folders/100", labels={"managed-by": "mlplat"}
        )
    )
    assert operation.operation.name.startswith("operations/cp.")
    created = operation.result(timeout=10)
    assert created.project_id == "ml-dev-123"
    assert created.state == State.ACTIVE
    assert created.name.removeprefix("projects/").isdigit()
    assert created.etag and created.create_time

    by_number = rm.get_project(name=created.name)
    by_id = rm.get_project(name="projects/ml-dev-123")
    assert by_number.name == by_id.name == created.name

    found = list(rm.search_projects(query="labels.managed-by:mlplat"))
    assert [p.project_id for p in found] == ["ml-dev-123"]
    assert [p.project_id for p in rm.search_projects(query="id:ml-dev-123 state:ACTIVE")] == [
        "ml-dev-123"
    ]
    assert list(rm.search_projects(query="labels.managed-by:other")) == []
    listed = list(rm.list_projects(parent="folders/100"))
    assert [p.project_id for p in listed] == ["ml-dev-123"]
    assert list(rm.list_projects(parent="folders/999")) == []

    updated = rm.update_project(
        project=resourcemanager_v3.Project(
            name=created.name, labels={"managed-by": "mlplat", "env": "dev"}
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["labels"]),
    ).result(timeout=10)
    assert dict(updated.labels) == {"managed-by": "mlplat", "env": "dev"}
    assert updated.etag != created.etag
    assert [p.project_id for p in rm.search_projects(query="labels.env:dev")] == ["ml-dev-123"]

    deleted = rm.delete_project(name=created.name).result(timeout=10)
    assert deleted.state == State.DELETE_REQUESTED
    assert rm.get_project(name=created.name).state == State.DELETE_REQUESTED
    assert list(rm.search_projects(query="id:ml-dev-123")) == []
    with_deleted = rm.list_projects(request={"parent": "folders/100", "show_deleted": True})
    assert len(list(with_deleted)) == 1

    # The ID stays reserved after deletion: over REST a 409 is a Conflict.
    with pytest.raises(exceptions.Conflict, match="already exists"):
        rm.create_project(project=resourcemanager_v3.Project(project_id="ml-dev-123"))

    restored = rm.undelete_project(name=created.name).result(timeout=10)
    assert restored.state == State.ACTIVE
    with pytest.raises(exceptions.BadRequest):
        rm.undelete_project(name=created.name)


def test_unknown_projects_answer_403_as_on_google(clients: Clients) -> None:
    with pytest.raises(exceptions.Forbidden, match="caller does not have permission"):
        clients.projects.get_project(name="projects/nobody-has-this")


@pytest.mark.parametrize("bad_id", ["UPPER-case1", "short", "ends-with-", "1starts-digit"])
def test_invalid_project_ids_are_refused(clients: Clients, bad_id: str) -> None:
    with pytest.raises(exceptions.BadRequest, match="invalid"):
        clients.projects.create_project(project=resourcemanager_v3.Project(project_id=bad_id))


def test_invalid_labels_are_refused(clients: Clients) -> None:
    project = resourcemanager_v3.Project(project_id="labels-bad", labels={"Bad": "x"})
    with pytest.raises(exceptions.BadRequest, match="label key"):
        clients.projects.create_project(project=project)


def test_update_mask_outside_mutable_fields_is_refused(clients: Clients) -> None:
    created = clients.create_project("mask-test-1")
    with pytest.raises(exceptions.BadRequest, match="update mask"):
        clients.projects.update_project(
            project=resourcemanager_v3.Project(name=created.name, parent="folders/9"),
            update_mask=field_mask_pb2.FieldMask(paths=["parent"]),
        )


def test_create_operation_wire_shape(clients: Clients) -> None:
    base = clients.sandbox.url("cloudresourcemanager")
    request = urllib.request.Request(
        f"{base}/v3/projects?$alt=json;enum-encoding=int",
        data=json.dumps({"projectId": "wire-shape-1", "parent": "folders/1"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        started = json.load(response)
    assert started["name"].startswith("operations/cp.")
    assert started["metadata"]["@type"].endswith("resourcemanager.v3.CreateProjectMetadata")
    assert "done" not in started  # instant mode: done at the next poll
    with urllib.request.urlopen(f"{base}/v3/{started['name']}") as response:
        done = json.load(response)
    assert done["done"] is True
    assert (
        done["response"]["@type"] == "type.googleapis.com/google.cloud.resourcemanager.v3.Project"
    )
    assert done["response"]["projectId"] == "wire-shape-1"
    # v1 (what gcloud's `projects describe` reads) shows the same project.
    with urllib.request.urlopen(f"{base}/v1/projects/wire-shape-1?alt=json") as response:
        v1 = json.load(response)
    assert v1["lifecycleState"] == "ACTIVE"
    assert v1["parent"] == {"type": "folder", "id": "1"}
    assert v1["projectNumber"] == done["response"]["name"].removeprefix("projects/")


def test_unknown_operation_is_not_found(clients: Clients) -> None:
    base = clients.sandbox.url("cloudresourcemanager")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{base}/v3/operations/cp.404")
    assert caught.value.code == 404
