"""SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview: answered, not stored."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.k8s.cluster import Cluster
from sandbox.k8s.errors import bad_request, invalid
from sandbox.k8s.identity import UserInfo
from sandbox.k8s.kinds import Kind
from sandbox.k8s.rbac import Attributes, authorize

Obj = dict[str, Any]


def _attributes(kind: Kind, spec: Obj, namespace: str) -> Attributes:
    resource = spec.get("resourceAttributes")
    other = spec.get("nonResourceAttributes")
    if (resource is None) == (other is None):
        raise invalid(
            kind,
            "",
            [
                (
                    "spec.resourceAttributes",
                    "Invalid value: exactly one of nonResourceAttributes or resourceAttributes "
                    "must be specified",
                )
            ],
        )
    if other is not None:
        return Attributes(verb=str(other.get("verb", "")), path=str(other.get("path", "")))
    assert resource is not None
    if (
        kind.kind == "LocalSubjectAccessReview"
        and resource.get("namespace", namespace) != namespace
    ):
        raise bad_request("spec.resourceAttributes.namespace must match metadata.namespace")
    return Attributes(
        verb=str(resource.get("verb", "")),
        group=str(resource.get("group", "")),
        resource=str(resource.get("resource", "")),
        subresource=str(resource.get("subresource", "")),
        namespace=str(resource.get("namespace", namespace)),
        name=str(resource.get("name", "")),
    )


def review(cluster: Cluster, kind: Kind, namespace: str, body: Any, requester: UserInfo) -> Obj:
    """Answer an access review from the same RBAC evaluator that guards requests."""
    if not isinstance(body, dict):
        raise bad_request(
            f"the body of the request was in an unknown format: expected a {kind.kind}"
        )
    spec = body.get("spec") or {}
    if kind.kind == "SelfSubjectAccessReview":
        subject = requester
    else:
        user, groups = str(spec.get("user", "")), tuple(spec.get("groups") or ())
        if not user and not groups:
            raise invalid(
                kind,
                "",
                [
                    (
                        "spec.user",
                        'Invalid value: "": at least one of user or group must be specified',
                    )
                ],
            )
        subject = UserInfo(user, groups)
    decision = authorize(cluster.objects, subject, _attributes(kind, spec, namespace))
    status: Obj = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    answer = copy.deepcopy(body)
    answer.update(apiVersion=kind.api_version, kind=kind.kind, status=status)
    answer.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    return answer
