"""What counts as a malformed answer: Google's against the discovery document, Kubernetes'
against the official client's models; what stays accepted (new fields, new values of enums
mlplat does not decide on, enums as numbers)."""

from __future__ import annotations

from typing import Any

import pytest

from mlplat.errors import (
    UNKNOWN_ENUM,
    WRONG_TYPE,
    MalformedResponseError,
    TruncatedResponseError,
)
from mlplat.gcp import responses
from mlplat.k8s import answers

CLUSTER_GET = "/v1/projects/p/locations/us-central1/clusters/c"


def _cluster_problems(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return responses.problems(responses.document("container.v1"), "Cluster", payload)


def test_google_answers_are_checked_against_the_discovery_document() -> None:
    good = {
        "name": "c",
        "status": "RUNNING",
        "currentNodeCount": 3,
        "nodePools": [{"name": "p", "status": "RUNNING", "initialNodeCount": 1}],
        "resourceLabels": {"a": "b"},
        "someFieldFromTheFuture": {"x": 1},  # Google adds fields: accepted
    }
    assert _cluster_problems(good) == []
    assert _cluster_problems({**good, "status": 2}) == []  # enum-encoding=int
    assert _cluster_problems({**good, "nodePools": "x"}) == [
        (WRONG_TYPE, "nodePools: expected a list, got the string 'x'")
    ]
    assert _cluster_problems({**good, "resourceLabels": {"a": 1}}) == [
        (WRONG_TYPE, "resourceLabels.a: expected a string, got the number 1")
    ]
    assert _cluster_problems({**good, "currentNodeCount": "three"}) == [
        (WRONG_TYPE, "currentNodeCount: expected an integer, got the string 'three'")
    ]
    (problem, detail), *_ = _cluster_problems({**good, "status": "FROBNICATING"})
    assert problem == UNKNOWN_ENUM and detail.startswith("status: 'FROBNICATING' is none of")
    pools = [{"name": "p", "status": "FROBNICATING"}]
    assert _cluster_problems({**good, "nodePools": pools})[0][0] == UNKNOWN_ENUM
    # A new value of an enum mlplat does not decide on is accepted (Google adds values).
    assert _cluster_problems({**good, "releaseChannel": {"channel": "BRAND_NEW"}}) == []


def test_a_cut_short_answer_is_retryable_only_for_a_read() -> None:
    doc = responses.document("container.v1")
    get = doc.method("GET", CLUSTER_GET)
    create = doc.method("POST", "/v1/projects/p/locations/us-central1/clusters")
    assert get is not None and get.id == "container.projects.locations.clusters.get"
    assert create is not None and create.id == "container.projects.locations.clusters.create"
    with pytest.raises(TruncatedResponseError, match=r"clusters\.get answered a malformed"):
        responses.check_body(doc, get, "GET", b'{"name": "c", "sta')
    with pytest.raises(MalformedResponseError, match="the change was likely made"):
        responses.check_body(doc, create, "POST", b'{"name": "operation-1", "sta')
    assert responses.check_body(doc, get, "GET", b'{"name": "c"}') == {"name": "c"}


def test_kubernetes_objects_are_checked_against_the_client_models() -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": "Yg=="},
    }
    assert answers.object_problems(secret, "") == []
    assert answers.object_problems({**secret, "data": "x"}, "") == [
        (WRONG_TYPE, "data: expected an object, got the string 'x'")
    ]
    assert answers.object_problems({**secret, "metadata": {"labels": {"a": 1}}}, "") == [
        (WRONG_TYPE, "metadata.labels.a: expected a string, got the number 1")
    ]
    custom = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "r"}}
    assert answers.object_problems({**custom, "status": {"state": "ready"}}, "") == []
    assert answers.object_problems({**custom, "spec": []}, "") == [
        (WRONG_TYPE, "spec: expected an object, got a list")
    ]
    assert answers.object_problems({**custom, "status": {"state": "FROBNICATING"}}, "") == [
        (
            UNKNOWN_ENUM,
            "status.state: 'FROBNICATING' is none of ready, failed, suspended, unhealthy",
        )
    ]
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "status": {"conditions": [{"type": "Established", "status": "Maybe"}]},
    }
    assert answers.object_problems(crd, "")[0][0] == UNKNOWN_ENUM


def test_kubernetes_answers_that_cannot_be_read_are_errors() -> None:
    with pytest.raises(TruncatedResponseError, match="k8s/Secret a/b: get answered"):
        answers.object_of("k8s/Secret a/b: get", '{"kind": "Sec', idempotent=True)
    with pytest.raises(MalformedResponseError, match=r"items: expected a list"):
        answers.items_of("k8s/Secret: list", {"kind": "SecretList", "items": "x"})
    listed = {"items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}]}
    assert answers.items_of("k8s/Secret: list", listed) == listed["items"]
