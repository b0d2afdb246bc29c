"""teardown_environment on the sandbox: a plan first; then nothing of ours is left (checked by
listing every API with the official clients); a rerun makes no write; the environment can be
provisioned again; with delete_project the project goes too."""

from __future__ import annotations

from typing import Any

import pytest
from google.cloud import resourcemanager_v3

from flows.provision_environment import provision_environment
from flows.teardown_environment import teardown_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, admin, writes
from tests.reliability.inventory import leftovers
from tests.sandbox.conftest import client_kwargs

PROJECT = "mlp-dev-a1b2"
REGION = "us-central1"


def _leftovers(sandbox: Sandbox) -> dict[str, Any]:
    """Everything of ours that any API still lists in the project."""
    return leftovers(sandbox, PROJECT, REGION)


@pytest.mark.provisioned
def test_teardown_leaves_nothing_and_is_idempotent(sandbox: Sandbox) -> None:
    where = {"spec_dir": str(REFERENCE), "endpoints": str(sandbox.endpoints_path)}
    before = _leftovers(sandbox)
    assert before["clusters"] and before["networks"] and before["service accounts"]

    admin(sandbox, "POST", "/counters/reset")
    plan = teardown_environment("dev", **where)
    assert writes(sandbox) == {}, "without confirm, teardown only plans"
    planned = {row["resource"]: row["action"] for row in plan["rows"]}
    assert planned["gke/cluster mlp-dev"] == "delete"
    assert planned["compute/network mlp-dev-vpc"] == "delete"
    assert planned["git/branch dev"] == "delete"

    done = teardown_environment("dev", confirm=True, **where)
    rows = {row["resource"]: row for row in done["rows"]}
    assert rows["k8s/namespace vision"]["action"] == "delete", "teams pruned through Git first"
    assert rows["k8s/namespace nlp-team"]["action"] == "delete"
    assert rows["gke/cluster mlp-dev"]["detail"].startswith("with node pools ")
    assert _leftovers(sandbox) == {
        "clusters": [],
        "memberships": [],
        "features": [],
        "networks": [],
        "subnetworks": [],
        "routers": [],
        "reservations": [],
        "service accounts": [],
        "service-account members": [],
        "branches": [b for b in before["branches"] if b != "dev"],
    }

    admin(sandbox, "POST", "/counters/reset")
    again = teardown_environment("dev", confirm=True, **where)
    assert writes(sandbox) == {}
    assert again["counts"]["delete"] == 0

    provision_environment("dev", **where)  # nothing left behind gets in the way
    assert _leftovers(sandbox)["clusters"]

    gone = teardown_environment("dev", confirm=True, delete_project=True, **where)
    assert {row["resource"]: row["action"] for row in gone["rows"]}[f"project {PROJECT}"] == (
        "delete"
    )
    project = resourcemanager_v3.ProjectsClient(
        **client_kwargs(sandbox.url("cloudresourcemanager"))
    ).get_project(name=f"projects/{PROJECT}")
    assert project.state == resourcemanager_v3.Project.State.DELETE_REQUESTED
    admin(sandbox, "POST", "/counters/reset")
    teardown_environment("dev", confirm=True, delete_project=True, **where)
    assert writes(sandbox) == {}
