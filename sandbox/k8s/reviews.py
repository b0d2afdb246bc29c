"""Access reviews (SubjectAccessReview, LocalSubjectAccessReview, SelfSubjectAccessReview), the
rules review `kubectl auth can-i --list` sends, and the SelfSubjectReview of `kubectl auth
whoami`: answered from the requester and RBAC, never stored."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.k8s.cluster_context import Cluster
from sandbox.k8s.errors import bad_request, invalid
from sandbox.k8s.identity import UserInfo
from sandbox.k8s.kinds import Kind
from sandbox.k8s.rbac import Attributes, authorize, rules_for

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


def _rules_status(cluster: Cluster, user: UserInfo, namespace: str) -> Obj:
    """What the RBAC authorizer lists: a rule with resources is a resource rule, one with
    nonResourceURLs a non-resource rule."""
    resource_rules: list[Obj] = []
    non_resource_rules: list[Obj] = []
    for rule in rules_for(cluster.objects, user, namespace):
        verbs = list(rule.get("verbs") or [])
        if rule.get("resources"):
            entry: Obj = {"verbs": verbs}
            for key in ("apiGroups", "resources", "resourceNames"):
                if rule.get(key):
                    entry[key] = list(rule[key])
            resource_rules.append(entry)
        if rule.get("nonResourceURLs"):
            urls = list(rule["nonResourceURLs"])
            non_resource_rules.append({"verbs": verbs, "nonResourceURLs": urls})
    return {
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": False,
    }


def _user_info(user: UserInfo) -> Obj:
    info: Obj = {"username": user.name}
    if user.groups:
        info["groups"] = list(user.groups)
    return info


def _answer(kind: Kind, body: Obj, status: Obj) -> Obj:
    answer = copy.deepcopy(body)
    answer.update(apiVersion=kind.api_version, kind=kind.kind, status=status)
    answer.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    return answer


def review(cluster: Cluster, kind: Kind, namespace: str, body: Any, requester: UserInfo) -> Obj:
    """Answer a review from the same RBAC evaluator that guards requests."""
    if not isinstance(body, dict):
        raise bad_request(
            f"the body of the request was in an unknown format: expected a {kind.kind}"
        )
    if kind.kind == "SelfSubjectReview":
        return _answer(kind, body, {"userInfo": _user_info(requester)})
    spec = body.get("spec") or {}
    if kind.kind == "SelfSubjectRulesReview":
        scope = str(spec.get("namespace", ""))
        return _answer(kind, body, _rules_status(cluster, requester, scope))
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
    return _answer(kind, body, status)
