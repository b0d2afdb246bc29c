"""RBAC authorization that really decides: Roles and ClusterRoles through their bindings.

Evaluated as kube-apiserver's RBAC authorizer does (apiGroups, `resource/subresource`,
resourceNames, `*`, nonResourceURLs with `*` suffixes); members of system:masters may do
anything. Denials become 403 Statuses worded like Kubernetes'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import SA_PREFIX, UserInfo
from sandbox.k8s.objects import ClusterObjects

Obj = dict[str, Any]
ROLES = "rbac.authorization.k8s.io/roles"
ROLE_BINDINGS = "rbac.authorization.k8s.io/rolebindings"
CLUSTER_ROLES = "rbac.authorization.k8s.io/clusterroles"
CLUSTER_ROLE_BINDINGS = "rbac.authorization.k8s.io/clusterrolebindings"


@dataclass(frozen=True)
class Attributes:
    """What a request does: a resource request, or a non-resource one (a `path`)."""

    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def is_resource(self) -> bool:
        """True for requests on API resources."""
        return bool(self.resource)


@dataclass(frozen=True)
class Decision:
    """An authorization answer; reason as SubjectAccessReview reports it."""

    allowed: bool
    reason: str = ""


def subject_matches(subject: Obj, user: UserInfo, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(name == user.name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"{SA_PREFIX}{namespace}:{name}"
    return False


def _covers(values: list[str], wanted: str) -> bool:
    return "*" in values or wanted in values


def rule_allows(rule: Obj, attrs: Attributes) -> bool:
    """Whether one PolicyRule allows the request."""
    if not _covers(rule.get("verbs") or [], attrs.verb):
        return False
    if not attrs.is_resource:
        for url in rule.get("nonResourceURLs") or []:
            if url in ("*", attrs.path):
                return True
            if url.endswith("*") and attrs.path.startswith(url[:-1]):
                return True
        return False
    if not _covers(rule.get("apiGroups") or [], attrs.group):
        return False
    resources = rule.get("resources") or []
    combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if not (
        "*" in resources
        or combined in resources
        or (attrs.subresource and f"*/{attrs.subresource}" in resources)
        or (attrs.subresource and f"{attrs.resource}/*" in resources)
    ):
        return False
    names = rule.get("resourceNames") or []
    return not names or attrs.name in names


def _subject_label(subject: Obj) -> str:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "ServiceAccount":
        return f'ServiceAccount "{subject.get("namespace", "")}/{name}"'
    return f'{kind} "{name}"'


def _role_of(objects: ClusterObjects, binding: Obj, namespace: str) -> Obj | None:
    ref = binding.get("roleRef") or {}
    role_kind, role_name = ref.get("kind", ""), ref.get("name", "")
    if role_kind == "Role" and namespace:
        return objects.get(ROLES, namespace, role_name)
    if role_kind == "ClusterRole":
        return objects.get(CLUSTER_ROLES, "", role_name)
    return None


def rules_for(objects: ClusterObjects, user: UserInfo, namespace: str) -> list[Obj]:
    """Every PolicyRule the user holds in a namespace (cluster-wide bindings first), as the
    RBAC authorizer lists them for a SelfSubjectRulesReview."""
    bindings: list[tuple[Obj, str]] = [(b, "") for b in objects.select(CLUSTER_ROLE_BINDINGS)]
    if namespace:
        bindings += [(b, namespace) for b in objects.select(ROLE_BINDINGS, namespace)]
    rules: list[Obj] = []
    for binding, where in bindings:
        if not any(subject_matches(s, user, where) for s in binding.get("subjects") or []):
            continue
        role = _role_of(objects, binding, where)
        rules += (role or {}).get("rules") or []
    return rules


def authorize(objects: ClusterObjects, user: UserInfo, attrs: Attributes) -> Decision:
    """Decide a request the way the RBAC authorizer does."""
    if user.is_master:
        return Decision(True)
    bindings: list[tuple[Obj, str]] = [(b, "") for b in objects.select(CLUSTER_ROLE_BINDINGS)]
    if attrs.namespace and attrs.is_resource:
        bindings += [(b, attrs.namespace) for b in objects.select(ROLE_BINDINGS, attrs.namespace)]
    for binding, namespace in bindings:
        subject = next(
            (s for s in binding.get("subjects") or [] if subject_matches(s, user, namespace)),
            None,
        )
        if subject is None:
            continue
        ref = binding.get("roleRef") or {}
        role_kind, role_name = ref.get("kind", ""), ref.get("name", "")
        role = _role_of(objects, binding, namespace)
        if role is None:
            continue
        if any(rule_allows(rule, attrs) for rule in role.get("rules") or []):
            name = binding["metadata"]["name"]
            where = (
                f'RoleBinding "{name}/{namespace}"'
                if namespace
                else (f'ClusterRoleBinding "{name}"')
            )
            role_text = f'{role_kind} "{role_name}"'
            return Decision(
                True, f"RBAC: allowed by {where} of {role_text} to {_subject_label(subject)}"
            )
    return Decision(False)


def denial_message(user: UserInfo, attrs: Attributes) -> str:
    """`User "u" cannot create resource "pods" in API group "" in the namespace "ns"`."""
    if not attrs.is_resource:
        return f'User "{user.name}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    text = (
        f'User "{user.name}" cannot {attrs.verb} resource "{resource}" in API group "{attrs.group}"'
    )
    if attrs.namespace:
        return f'{text} in the namespace "{attrs.namespace}"'
    return f"{text} at the cluster scope"


def forbidden_error(user: UserInfo, attrs: Attributes) -> StatusError:
    """The 403 kube-apiserver answers for a denied request."""
    message = denial_message(user, attrs)
    if not attrs.is_resource:
        return StatusError(403, "Forbidden", f"forbidden: {message}", {})
    qualified = f"{attrs.resource}.{attrs.group}" if attrs.group else attrs.resource
    subject = f'{qualified} "{attrs.name}"' if attrs.name else qualified
    details: Obj = {"kind": attrs.resource}
    if attrs.name:
        details["name"] = attrs.name
    if attrs.group:
        details["group"] = attrs.group
    return StatusError(403, "Forbidden", f"{subject} is forbidden: {message}", details)
