"""The resource kinds a sandbox cluster serves: the built-in table, and lookups with CRDs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = frozenset({"get", "list", "watch"})
SUBRESOURCE_VERBS = ("get", "patch", "update")


@dataclass(frozen=True)
class Kind:
    """One served resource: `deployments` in `apps/v1` of kind `Deployment`."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    status: bool = False  # has a /status subresource
    categories: tuple[str, ...] = ()
    model: str = ""  # kubernetes client model class for the schema; "" for custom resources
    printer_columns: tuple[dict[str, str], ...] = field(default=(), compare=False)

    @property
    def api_version(self) -> str:
        """`v1` or `apps/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_version(self) -> str:
        """Same as api_version, named as discovery names it."""
        return self.api_version

    @property
    def resource(self) -> str:
        """`deployments.apps` or `pods`: how Kubernetes names the resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def custom(self) -> bool:
        """True for kinds defined by a CustomResourceDefinition."""
        return not self.model


def _kind(
    group: str,
    kind: str,
    plural: str,
    namespaced: bool = True,
    *,
    short_names: tuple[str, ...] = (),
    status: bool = False,
    categories: tuple[str, ...] = (),
    verbs: tuple[str, ...] = ALL_VERBS,
    model: str = "",
) -> Kind:
    return Kind(
        group,
        "v1",
        kind,
        plural,
        kind.lower(),
        namespaced,
        short_names=short_names,
        verbs=verbs,
        status=status,
        categories=categories,
        model=model or f"V1{kind}",
    )


RBAC = "rbac.authorization.k8s.io"
APIEXTENSIONS = "apiextensions.k8s.io"
AUTHORIZATION = "authorization.k8s.io"
REVIEW_VERBS = ("create",)

BUILTIN: tuple[Kind, ...] = (
    _kind("", "Namespace", "namespaces", False, short_names=("ns",), status=True),
    _kind("", "ServiceAccount", "serviceaccounts", short_names=("sa",)),
    _kind("", "Secret", "secrets"),
    _kind("", "ConfigMap", "configmaps", short_names=("cm",)),
    _kind("", "Service", "services", short_names=("svc",), status=True, categories=("all",)),
    _kind("", "Pod", "pods", short_names=("po",), status=True, categories=("all",)),
    _kind("", "Event", "events", short_names=("ev",), model="CoreV1Event"),
    _kind("", "Node", "nodes", False, short_names=("no",), status=True),
    _kind("", "Endpoints", "endpoints", short_names=("ep",)),
    _kind("", "ResourceQuota", "resourcequotas", short_names=("quota",), status=True),
    _kind("", "LimitRange", "limitranges", short_names=("limits",)),
    _kind(
        "apps",
        "Deployment",
        "deployments",
        short_names=("deploy",),
        status=True,
        categories=("all",),
    ),
    _kind(
        "apps",
        "ReplicaSet",
        "replicasets",
        short_names=("rs",),
        status=True,
        categories=("all",),
    ),
    _kind("batch", "Job", "jobs", status=True, categories=("all",)),
    _kind(RBAC, "Role", "roles"),
    _kind(RBAC, "RoleBinding", "rolebindings"),
    _kind(RBAC, "ClusterRole", "clusterroles", False),
    _kind(RBAC, "ClusterRoleBinding", "clusterrolebindings", False),
    _kind("networking.k8s.io", "NetworkPolicy", "networkpolicies", short_names=("netpol",)),
    _kind(
        APIEXTENSIONS,
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        short_names=("crd", "crds"),
        status=True,
    ),
    _kind(AUTHORIZATION, "SubjectAccessReview", "subjectaccessreviews", False, verbs=REVIEW_VERBS),
    _kind(
        AUTHORIZATION,
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=REVIEW_VERBS,
    ),
    _kind(
        AUTHORIZATION,
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        False,
        verbs=REVIEW_VERBS,
    ),
    _kind(
        "authentication.k8s.io",
        "SelfSubjectReview",
        "selfsubjectreviews",
        False,
        verbs=REVIEW_VERBS,
    ),
    _kind(
        AUTHORIZATION,
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        verbs=REVIEW_VERBS,
    ),
)

# Kinds answered without being stored.
REVIEW_KINDS = frozenset(
    (
        "SubjectAccessReview",
        "SelfSubjectAccessReview",
        "LocalSubjectAccessReview",
        "SelfSubjectRulesReview",
        "SelfSubjectReview",
    )
)
REVIEW_PLURALS = frozenset(k.plural for k in BUILTIN if k.kind in REVIEW_KINDS)


class KindIndex:
    """Lookups over a set of kinds (the built-ins plus the cluster's established CRDs)."""

    def __init__(self, kinds: Iterable[Kind]) -> None:
        self.kinds = tuple(kinds)
        self._by_resource = {(k.group, k.version, k.plural): k for k in self.kinds}
        self._by_gvk = {(k.api_version, k.kind): k for k in self.kinds}

    def by_resource(self, group: str, version: str, plural: str) -> Kind | None:
        """The kind served at /apis/group/version/plural (or /api/v1/plural)."""
        return self._by_resource.get((group, version, plural))

    def by_gvk(self, api_version: str, kind: str) -> Kind | None:
        """The kind of objects with this apiVersion and kind."""
        return self._by_gvk.get((api_version, kind))

    def group_versions(self) -> dict[str, list[str]]:
        """Served versions per group ("" for the core group), preferred version first."""
        versions: dict[str, list[str]] = {}
        for kind in self.kinds:
            listed = versions.setdefault(kind.group, [])
            if kind.version not in listed:
                listed.append(kind.version)
        return versions

    def in_group_version(self, group: str, version: str) -> list[Kind]:
        """Kinds served in one group-version."""
        return [k for k in self.kinds if k.group == group and k.version == version]


def storage_key(kind: Kind) -> str:
    """Where objects of a kind are kept, the same for every served version: `apps/deployments`."""
    return f"{kind.group or 'core'}/{kind.plural}"


def builtin(kind: str) -> Kind:
    """A built-in kind by its kind name (`Namespace`, `Deployment`, …)."""
    return _BUILTIN_BY_KIND[kind]


_BUILTIN_BY_KIND = {k.kind: k for k in BUILTIN}
