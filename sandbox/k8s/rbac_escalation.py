"""Kubernetes' RBAC escalation prevention, as the API server's rbac registry applies it.

- A Role or ClusterRole may be written only by a user who holds every permission it grants
  (in the Role's namespace, or cluster-wide for a ClusterRole), or who may `escalate` it. A
  ClusterRole with an aggregationRule needs full authority.
- A RoleBinding or ClusterRoleBinding may be written only by a user who holds every permission
  of the role it references (in the binding's namespace, or cluster-wide), or who may `bind`
  that role. A referenced role that does not exist is refused.
- Members of system:masters may do anything; a write that touches only what garbage collection
  needs (owner references, finalizers) is not checked.

Coverage follows kube-apiserver's `validation.Covers`: each granted rule is broken down into
one verb, group, resource and name at a time, and each piece must be allowed by one rule the
user holds; a `*` granted is held only by a `*` held. The refusal reads as Kubernetes words it:
`roles.rbac.authorization.k8s.io "x" is forbidden: user "u" (groups=["g"]) is attempting to
grant RBAC permissions not currently held:` followed by the missing rules, one per line.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sandbox.k8s.errors import StatusError
from sandbox.k8s.identity import UserInfo
from sandbox.k8s.objects import ClusterObjects
from sandbox.k8s.rbac import (
    CLUSTER_ROLE_BINDINGS,
    CLUSTER_ROLES,
    ROLE_BINDINGS,
    ROLES,
    Attributes,
    authorize,
    subject_matches,
)

Obj = dict[str, Any]
GROUP = "rbac.authorization.k8s.io"
_FULL_AUTHORITY = (
    {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
    {"nonResourceURLs": ["*"], "verbs": ["*"]},
)
_GC_FIELDS = ("ownerReferences", "finalizers")
_VOLATILE = ("resourceVersion", "managedFields", "generation", "uid", "creationTimestamp")


def check(objects: ClusterObjects, kind: str, obj: Obj, old: Obj | None, user: UserInfo) -> None:
    """Refuse a write of an RBAC object that would grant more than `user` holds."""
    if kind not in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"):
        return
    if user.is_master or (old is not None and _only_gc_fields(old, obj)):
        return
    metadata = obj.get("metadata") or {}
    namespace, name = str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
    plural = kind.lower() + "s"
    if kind in ("Role", "ClusterRole"):
        if _may(
            objects, user, Attributes("escalate", GROUP, plural, namespace=namespace, name=name)
        ):
            return
        rules = list(obj.get("rules") or [])
        if kind == "ClusterRole" and obj.get("aggregationRule"):
            rules = [dict(rule) for rule in _FULL_AUTHORITY]
    else:
        ref = obj.get("roleRef") or {}
        ref_kind, ref_name = str(ref.get("kind", "")), str(ref.get("name", ""))
        ref_plural = "roles" if ref_kind == "Role" else "clusterroles"
        if _may(
            objects, user, Attributes("bind", GROUP, ref_plural, namespace=namespace, name=ref_name)
        ):
            return
        role = (
            objects.get(ROLES, namespace, ref_name)
            if ref_kind == "Role"
            else objects.get(CLUSTER_ROLES, "", ref_name)
        )
        if role is None:
            singular = "role" if ref_kind == "Role" else "clusterrole"
            raise _forbidden(plural, name, f'{singular}.{GROUP} "{ref_name}" not found')
        rules = list(role.get("rules") or [])
    missing = uncovered(held_rules(objects, user, namespace), rules)
    if missing:
        groups = " ".join(f'"{group}"' for group in user.groups)
        lines = "\n".join(sorted({compact_string(rule) for rule in compact(missing)}))
        raise _forbidden(
            plural,
            name,
            f'user "{user.name}" (groups=[{groups}]) is attempting to grant RBAC permissions '
            f"not currently held:\n{lines}",
        )


def _may(objects: ClusterObjects, user: UserInfo, attrs: Attributes) -> bool:
    return authorize(objects, user, attrs).allowed


def _forbidden(plural: str, name: str, why: str) -> StatusError:
    details = {"name": name, "group": GROUP, "kind": plural}
    return StatusError(403, "Forbidden", f'{plural}.{GROUP} "{name}" is forbidden: {why}', details)


def _only_gc_fields(old: Obj, new: Obj) -> bool:
    def stripped(obj: Obj) -> Obj:
        copied = copy.deepcopy(obj)
        metadata = copied.setdefault("metadata", {})
        for key in (*_GC_FIELDS, *_VOLATILE):
            metadata.pop(key, None)
        return copied

    return stripped(old) == stripped(new)


def held_rules(objects: ClusterObjects, user: UserInfo, namespace: str) -> list[Obj]:
    """Every rule the user holds: through ClusterRoleBindings, and RoleBindings of
    `namespace` (none for "")."""
    found: list[Obj] = []
    bindings = [(b, "") for b in objects.select(CLUSTER_ROLE_BINDINGS)]
    if namespace:
        bindings += [(b, namespace) for b in objects.select(ROLE_BINDINGS, namespace)]
    for binding, where in bindings:
        if not any(
            subject_matches(subject, user, where) for subject in binding.get("subjects") or []
        ):
            continue
        ref = binding.get("roleRef") or {}
        if ref.get("kind") == "Role" and where:
            role = objects.get(ROLES, where, str(ref.get("name", "")))
        elif ref.get("kind") == "ClusterRole":
            role = objects.get(CLUSTER_ROLES, "", str(ref.get("name", "")))
        else:
            role = None
        found += list((role or {}).get("rules") or [])
    return found


def _breakdown(rule: Obj) -> Iterable[Obj]:
    """A rule as single-verb, single-group, single-resource, single-name pieces."""
    verbs = rule.get("verbs") or []
    for group in rule.get("apiGroups") or []:
        for resource in rule.get("resources") or []:
            for verb in verbs:
                names = rule.get("resourceNames") or [None]
                for name in names:
                    piece: Obj = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                    if name is not None:
                        piece["resourceNames"] = [name]
                    yield piece
    for url in rule.get("nonResourceURLs") or []:
        for verb in verbs:
            yield {"nonResourceURLs": [url], "verbs": [verb]}


def _has(values: list[str], wanted: list[str]) -> bool:
    return all(value in values for value in wanted)


def _resources_cover(owned: list[str], wanted: list[str]) -> bool:
    if "*" in owned or _has(owned, wanted):
        return True
    for path in wanted:
        if path in owned:
            continue
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owned:
            return False
    return True


def _url_covers(owned: str, wanted: str) -> bool:
    return owned == wanted or (owned.endswith("*") and wanted.startswith(owned.rstrip("*")))


def _covers(owner: Obj, piece: Obj) -> bool:
    verbs = owner.get("verbs") or []
    groups = owner.get("apiGroups") or []
    names = owner.get("resourceNames") or []
    urls = owner.get("nonResourceURLs") or []
    wanted_names = piece.get("resourceNames") or []
    return (
        ("*" in verbs or _has(verbs, piece["verbs"]))
        and ("*" in groups or _has(groups, piece.get("apiGroups") or []))
        and _resources_cover(owner.get("resources") or [], piece.get("resources") or [])
        and (not names if not wanted_names else (not names or _has(names, wanted_names)))
        and all(any(_url_covers(u, w) for u in urls) for w in piece.get("nonResourceURLs") or [])
    )


def uncovered(owned: list[Obj], granted: list[Obj]) -> list[Obj]:
    """The pieces of `granted` that no rule of `owned` covers."""
    return [
        piece
        for rule in granted
        for piece in _breakdown(rule)
        if not any(_covers(owner, piece) for owner in owned)
    ]


def compact(pieces: list[Obj]) -> list[Obj]:
    """Pieces that differ only in their verb, joined (as Kubernetes compacts missing rules)."""
    joined: dict[tuple[str, ...], Obj] = {}
    for piece in pieces:
        key = (
            *piece.get("apiGroups", []),
            "|",
            *piece.get("resources", []),
            "|",
            *piece.get("resourceNames", []),
            "|",
            *piece.get("nonResourceURLs", []),
        )
        if key in joined:
            if piece["verbs"][0] not in joined[key]["verbs"]:
                joined[key]["verbs"].append(piece["verbs"][0])
        else:
            joined[key] = copy.deepcopy(piece)
    return list(joined.values())


def compact_string(rule: Obj) -> str:
    """`{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}` as Kubernetes'
    rbac helpers print a rule."""
    parts = []
    for field, label in (
        ("apiGroups", "APIGroups"),
        ("resources", "Resources"),
        ("nonResourceURLs", "NonResourceURLs"),
        ("resourceNames", "ResourceNames"),
        ("verbs", "Verbs"),
    ):
        values = rule.get(field) or []
        if values:
            parts.append(f"{label}:[" + " ".join(f'"{v}"' for v in values) + "]")
    return "{" + ", ".join(parts) + "}"
