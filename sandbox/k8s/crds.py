"""CustomResourceDefinitions: validation, the status a real server sets, the kinds they serve.

Each cluster keeps a small index of its CRDs' kinds (`k8s.crdindex`, one document per cluster)
so discovery and routing need not load the (often large) CRD objects; schemas are derived from
the CRD object on demand and cached per CRD resourceVersion.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sandbox.k8s.backend import Backend
from sandbox.k8s.errors import invalid
from sandbox.k8s.kinds import APIEXTENSIONS, BUILTIN, Kind, KindIndex
from sandbox.k8s.schemas import Schema, custom_resource_schema, model_schema

Obj = dict[str, Any]
INDEX = "k8s.crdindex"
CRD_STORAGE = f"{APIEXTENSIONS}/customresourcedefinitions"
_CRD_KIND = next(k for k in BUILTIN if k.kind == "CustomResourceDefinition")


def validate_crd(crd: Obj) -> None:
    """422 Invalid for what kube-apiserver would refuse in a CRD's spec."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    name = crd["metadata"]["name"]
    causes: list[tuple[str, str]] = []
    group, plural = spec.get("group", ""), names.get("plural", "")
    if not group:
        causes.append(("spec.group", "Required value"))
    if not plural:
        causes.append(("spec.names.plural", "Required value"))
    if not names.get("kind"):
        causes.append(("spec.names.kind", "Required value"))
    if group and plural and name != f"{plural}.{group}":
        causes.append(
            ("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group')
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append(("spec.scope", 'Unsupported value: must be "Cluster" or "Namespaced"'))
    versions = spec.get("versions") or []
    if sum(1 for v in versions if v.get("storage")) != 1:
        message = "Invalid value: must have exactly one version marked as storage version"
        causes.append(("spec.versions", message))
    if causes:
        raise invalid(_CRD_KIND, name, causes)


def established_status(crd: Obj, now: str) -> Obj:
    """The status a real server reaches within moments: names accepted, Established."""
    spec = crd.get("spec") or {}
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    conditions = [
        {
            "type": "NamesAccepted",
            "status": "True",
            "reason": "NoConflicts",
            "message": "no conflicts found",
            "lastTransitionTime": now,
        },
        {
            "type": "Established",
            "status": "True",
            "reason": "InitialNamesAccepted",
            "message": "the initial names have been accepted",
            "lastTransitionTime": now,
        },
    ]
    previous = (crd.get("status") or {}).get("storedVersions") or []
    storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    stored = list(dict.fromkeys([*previous, *storage]))
    return {"acceptedNames": names, "conditions": conditions, "storedVersions": stored}


def crd_kinds(crd: Obj) -> list[Kind]:
    """The kinds a CRD serves, one per served version, storage version first."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = sorted(
        (v for v in spec.get("versions") or [] if v.get("served", True)),
        key=lambda v: not v.get("storage"),
    )
    kinds = []
    for version in versions:
        columns = tuple(
            {"name": str(c.get("name", "")), "jsonPath": str(c.get("jsonPath", ""))}
            for c in version.get("additionalPrinterColumns") or []
        )
        kinds.append(
            Kind(
                group=spec["group"],
                version=version["name"],
                kind=names["kind"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                namespaced=spec.get("scope") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                status="status" in (version.get("subresources") or {}),
                categories=tuple(names.get("categories") or ()),
                printer_columns=columns,
            )
        )
    return kinds


def index_crd(backend: Backend, cluster: str, crd: Obj | None, name: str) -> None:
    """Record (or, crd None, forget) a CRD's kinds in the cluster's index."""
    index = backend.store.get(INDEX, cluster) or {}
    if crd is None:
        index.pop(name, None)
    else:
        index[name] = {
            "rv": crd["metadata"].get("resourceVersion", ""),
            "kinds": [
                {**asdict(k), "printer_columns": list(k.printer_columns)} for k in crd_kinds(crd)
            ],
        }
    backend.store.put(INDEX, cluster, index)


def _kind(raw: Obj) -> Kind:
    fields = dict(raw)
    for name in ("short_names", "verbs", "categories", "printer_columns"):
        fields[name] = tuple(fields.get(name) or ())
    return Kind(**fields)


def cluster_kinds(backend: Backend, cluster: str) -> KindIndex:
    """Every kind the cluster serves: built-ins, then its CRDs' kinds (rebuilt only when a
    CRD changed: every request needs it)."""
    return backend.store.derived(INDEX, cluster, _kind_index)


def _kind_index(index: Obj | None) -> KindIndex:
    custom = [_kind(raw) for entry in (index or {}).values() for raw in entry["kinds"]]
    return KindIndex([*BUILTIN, *custom])


def schema_for(backend: Backend, cluster: str, kind: Kind) -> Schema:
    """The shape of a kind's objects (a CRD version's schema for custom resources)."""
    if not kind.custom:
        return model_schema(kind.model)
    name = f"{kind.plural}.{kind.group}"
    entry = (backend.store.get(INDEX, cluster) or {}).get(name) or {}
    key = ("crd-schema", cluster, name, entry.get("rv"), kind.version)
    cached: Schema | None = backend.cache.get(key)
    if cached is None:  # the (possibly large) CRD is read only when its version changed
        crd = backend.objects(cluster).get(CRD_STORAGE, "", name) or {}
        props = (_version(crd, kind.version).get("schema") or {}).get("openAPIV3Schema")
        cached = backend.cache[key] = custom_resource_schema(props)
    return cached


def openapi_schema(backend: Backend, cluster: str, kind: Kind) -> Obj | None:
    """A custom kind's `openAPIV3Schema` as its CRD declares it (None for built-ins)."""
    if not kind.custom:
        return None
    crd = backend.objects(cluster).get(CRD_STORAGE, "", f"{kind.plural}.{kind.group}") or {}
    props = (_version(crd, kind.version).get("schema") or {}).get("openAPIV3Schema")
    return props if isinstance(props, dict) else None


def _version(crd: Obj, name: str) -> Obj:
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if entry.get("name") == name:
            return dict(entry)
    return {}
