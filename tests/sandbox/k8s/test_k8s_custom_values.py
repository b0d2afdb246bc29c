"""Custom resources' values against their CRD's structural schema: defaults, types, required
fields and enums, all causes in one 422, and ratcheting when a schema grows stricter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from tests.sandbox.k8s.kube_env import KubeEnv

GROUP, PLURAL = "example.com", "widgets"


def _crd(size: dict[str, Any]) -> dict[str, Any]:
    spec = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "count": {"type": "integer", "default": 1},
            "size": size,
            "quantity": {
                "anyOf": [{"type": "integer"}, {"type": "string"}],
                "x-kubernetes-int-or-string": True,
            },
        },
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": spec,
                                "status": {
                                    "type": "object",
                                    "properties": {"ok": {"type": "boolean"}},
                                },
                            },
                        }
                    },
                }
            ],
        },
    }


def _widget(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}


def test_values_are_defaulted_checked_and_ratcheted(kube: KubeEnv) -> None:
    api = kube.api()
    extensions = client.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(_crd({"type": "string"}))
    custom = client.CustomObjectsApi(api)
    with pytest.raises(client.ApiException) as refused:
        custom.create_namespaced_custom_object(
            GROUP, "v1", "default", PLURAL, _widget(count="3", quantity=1.5)
        )
    assert refused.value.status == 422
    message = json.loads(refused.value.body)["message"]
    assert message.startswith('Widget.example.com "w" is invalid: [')
    assert "spec.name: Required value" in message
    assert (
        'spec.count: Invalid value: "string": spec.count in body must be of type integer: "string"'
    ) in message
    assert (
        'spec.quantity: Invalid value: "number": spec.quantity in body must be of type '
        'integer,string: "number"'
    ) in message
    stored = custom.create_namespaced_custom_object(
        GROUP, "v1", "default", PLURAL, _widget(name="a", size="XL", quantity="2Gi")
    )
    assert stored["spec"]["count"] == 1  # the schema's default

    # The schema grows stricter: the stored widget's size is no longer allowed...
    crd = extensions.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
    stricter = _crd({"type": "string", "enum": ["S", "M", "L"]})
    stricter["metadata"]["resourceVersion"] = crd.metadata.resource_version
    extensions.replace_custom_resource_definition(f"{PLURAL}.{GROUP}", stricter)
    # ...yet it may still change what is valid (validation ratcheting),
    patched = custom.patch_namespaced_custom_object_status(
        GROUP, "v1", "default", PLURAL, "w", {"status": {"ok": True}}
    )
    assert patched["status"] == {"ok": True}
    # but not be given a new invalid value.
    with pytest.raises(client.ApiException) as enum:
        custom.patch_namespaced_custom_object(
            GROUP, "v1", "default", PLURAL, "w", {"spec": {"size": "XXL"}}
        )
    assert (
        'spec.size: Unsupported value: "XXL": supported values: "S", "M", "L"'
        in (json.loads(enum.value.body)["message"])
    )
