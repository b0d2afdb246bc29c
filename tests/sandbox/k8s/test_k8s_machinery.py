"""The pure pieces on their own: selectors, patches, field sets, protobuf bodies."""

from __future__ import annotations

import pytest

from sandbox.controllers.quantities import add, canonical, quantity
from sandbox.k8s.errors import StatusError
from sandbox.k8s.fieldsets import field_set, from_fields_v1, to_fields_v1
from sandbox.k8s.patch_formats import json_patch, merge_patch, strategic_merge
from sandbox.k8s.protobuf import MAGIC, decode_body
from sandbox.k8s.schemas import model_schema
from sandbox.k8s.selectors import label_matcher

POD = model_schema("V1PodSpec")


def _obj(**labels: str) -> dict:
    return {"metadata": {"labels": labels}}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("a=1", {"a": "1"}, True),
        ("a==1,b", {"a": "1"}, False),
        ("a!=1", {}, True),
        ("a in (1, 2),b notin (3)", {"a": "2", "b": "4"}, True),
        ("a in (1, 2),b notin (3)", {"a": "2", "b": "3"}, False),
        ("!a", {"b": "1"}, True),
        ("example.com/team=ml", {"example.com/team": "ml"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert label_matcher(selector)(_obj(**labels)) is expected


def test_malformed_label_selector_is_a_400() -> None:
    with pytest.raises(StatusError) as bad:
        label_matcher("a in 1")
    assert bad.value.code == 400


def test_strategic_merge_follows_merge_keys_and_directives() -> None:
    spec = {
        "containers": [
            {"name": "a", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "b", "image": "b:1"},
        ],
        "tolerations": [{"key": "gpu"}],
    }
    patch = {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [
            {"name": "a", "env": [{"name": "Y", "value": "2"}]},
            {"name": "b", "$patch": "delete"},
        ],
        "tolerations": [{"key": "tpu"}],
    }
    merged = strategic_merge(spec, patch, POD)
    assert merged["containers"] == [
        {
            "name": "a",
            "image": "a:1",
            "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
        }
    ]
    assert merged["tolerations"] == [{"key": "tpu"}]  # no merge key: replaced


def test_merge_and_json_patches() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == {
        "a": {"c": 2, "d": 3}
    }
    doc = {"a": [1, 2]}
    assert json_patch(
        doc,
        [{"op": "add", "path": "/a/-", "value": 3}, {"op": "move", "from": "/a/0", "path": "/b"}],
    ) == {
        "a": [2, 3],
        "b": 1,
    }
    assert doc == {"a": [1, 2]}
    with pytest.raises(StatusError):
        json_patch(doc, [{"op": "remove", "path": "/missing"}])


def test_field_sets_round_trip_through_fields_v1() -> None:
    spec = {"containers": [{"name": "a", "image": "i", "ports": [{"containerPort": 80}]}]}
    paths = field_set(spec, POD)
    tree = to_fields_v1(paths)
    item = tree["f:containers"]['k:{"name":"a"}']
    assert item["."] == {} and item["f:image"] == {}
    assert 'k:{"containerPort":80,"protocol":"TCP"}' in item["f:ports"]
    assert from_fields_v1(tree) == paths


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_protobuf_bodies_decode_like_kubectl_sends_them() -> None:
    meta = _field(1, b"git-creds") + _field(2, b"") + _field(3, b"cms")
    entry = _field(1, b"token") + _field(2, b"t")
    secret = _field(1, meta) + _field(2, entry) + _field(3, b"Opaque")
    type_meta = _field(1, b"v1") + _field(2, b"Secret")
    body = MAGIC + _field(1, type_meta) + _field(2, secret)
    assert decode_body(body, "Secret") == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "git-creds", "namespace": "cms"},
        "data": {"token": "dA=="},
        "type": "Opaque",
    }


def test_quantities_print_as_kubernetes_prints_them() -> None:
    shown = {raw: canonical(quantity(raw)) for raw in QUANTITIES_SHOWN}
    assert shown == QUANTITIES_SHOWN
    total = add(add(None, quantity("1Gi")), quantity("512Mi"))
    assert canonical(total) == "1536Mi"
    assert canonical(add(quantity("250m"), quantity("1"))) == "1250m"


# What resource.MustParse(raw).String() answers.
QUANTITIES_SHOWN = {
    "1": "1",
    "2000m": "2",
    "1.5": "1500m",
    "0.1": "100m",
    "1000": "1k",
    "1024": "1024",
    "1.5G": "1500M",
    "1.5Gi": "1536Mi",
    "2048Ki": "2Mi",
    "100Mi": "100Mi",
    "0": "0",
    "1e3": "1e3",
}
