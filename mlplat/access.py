"""What each team role must and must not be able to do: the expectations the access check
proves with SubjectAccessReviews after onboarding (pure)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mlplat.specs import Team


@dataclass(frozen=True)
class Expectation:
    """`subject` (user or group) doing `verb` on `group/resource` in `namespace` ("" = cluster
    scope) should be `allowed`."""

    subject: str
    is_group: bool
    verb: str
    group: str
    resource: str
    namespace: str
    allowed: bool

    def describe(self) -> str:
        where = f"in {self.namespace}" if self.namespace else "cluster-wide"
        kind = "group" if self.is_group else "user"
        should = "may" if self.allowed else "may not"
        target = f"{self.group}/{self.resource}" if self.group else self.resource
        return f"{kind} {self.subject} {should} {self.verb} {target} {where}"


# (verb, API group, resource) a role must be allowed in its own namespace.
_ALLOWED = {
    "viewer": [("list", "", "pods"), ("get", "ray.io", "rayclusters")],
    "developer": [
        ("create", "ray.io", "rayclusters"),
        ("create", "", "pods/portforward"),
        ("delete", "apps", "deployments"),
    ],
    "admin": [("get", "", "secrets"), ("create", "rbac.authorization.k8s.io", "rolebindings")],
}
# Denied to every role in its own namespace unless the role is higher.
_DENIED_HERE = {
    "viewer": [("create", "ray.io", "rayclusters"), ("get", "", "secrets")],
    "developer": [("get", "", "secrets"), ("create", "rbac.authorization.k8s.io", "rolebindings")],
    "admin": [("delete", "", "resourcequotas"), ("update", "", "namespaces")],
}
_DENIED_CLUSTER = [
    ("list", "", "pods"),
    ("list", "", "nodes"),
    ("create", "", "namespaces"),
    ("create", "rbac.authorization.k8s.io", "clusterrolebindings"),
]


# Other teams' namespaces probed per member. Every namespace is probed by some team (each
# probes the next ones in name order); a grant reaching all of them shows cluster-wide.
NEIGHBOURS = 2


def neighbours(team: Team, others: list[Team]) -> list[Team]:
    """The teams after `team` in name order (wrapping round), at most NEIGHBOURS: the checks
    grow with the number of teams, not with its square."""
    ordered = sorted([team, *others], key=lambda t: t.name)
    at = ordered.index(team)
    ring = ordered[at + 1 :] + ordered[:at]
    return ring[:NEIGHBOURS]


def expectations(team: Team, others: list[Team]) -> Iterator[Expectation]:
    """Every check for each member of `team`: allowed at home, denied in its neighbours'
    namespaces and cluster-wide."""
    ns = team.namespace_name
    others = neighbours(team, others)
    for role in ("viewer", "developer", "admin"):
        members = getattr(team.members, role)
        subjects = [(u, False) for u in members.users] + [(g, True) for g in members.groups]
        for subject, is_group in subjects:
            for verb, group, resource in _ALLOWED[role]:
                yield Expectation(subject, is_group, verb, group, resource, ns, True)
            for verb, group, resource in _DENIED_HERE[role]:
                yield Expectation(subject, is_group, verb, group, resource, ns, False)
            for other in others:
                yield Expectation(
                    subject, is_group, "list", "", "pods", other.namespace_name, False
                )
                yield Expectation(
                    subject,
                    is_group,
                    "create",
                    "ray.io",
                    "rayclusters",
                    other.namespace_name,
                    False,
                )
            for verb, group, resource in _DENIED_CLUSTER:
                yield Expectation(subject, is_group, verb, group, resource, "", False)
