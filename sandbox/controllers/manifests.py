"""Reading a sync's files into the objects it declares, validated as Config Sync does.

`*.yaml`, `*.yml` (several documents each) and `*.json` files, `List` kinds flattened; objects
annotated `configmanagement.gke.io/managed: disabled` are kept apart (Config Sync lets go of
them: `parse_files` returns them with `managed` False). Validation: the kind must
be served by the cluster or declared by a CRD of the same source; a RepoSync may declare only
objects of its own namespace; a namespace-scoped object without namespace gets the RepoSync's
namespace (or `default` for a RootSync).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from sandbox.controllers.knv import (
    BAD_SCOPE,
    PATH_ERROR,
    RESOURCE_ERROR,
    UNKNOWN_KIND,
    SyncError,
    group_kind,
    ref_of,
)

Obj = dict[str, Any]
Scoper = Callable[[str, str], "bool | None"]  # (apiVersion, kind) -> namespaced? None: unknown
_EXTENSIONS = (".yaml", ".yml", ".json")
_IGNORED_DIRS = frozenset({".github", ".gitlab"})
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
UNMANAGED = ("configmanagement.gke.io/managed", "disabled")


@dataclass(frozen=True)
class Declared:
    """One object a source declares, and the file it came from."""

    obj: Obj
    path: str
    managed: bool = True  # False: annotated `configmanagement.gke.io/managed: disabled`

    @property
    def api_version(self) -> str:
        return str(self.obj["apiVersion"])

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"].get("namespace") or "")

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    def resource_id(self) -> str:
        """Config Sync's object id: `<group>_<kind>_<namespace>_<name>` (no namespace part for
        cluster-scoped objects)."""
        middle = f"_{self.namespace}" if self.namespace else ""
        return f"{self.group}_{self.kind.lower()}{middle}_{self.name}"


def _documents(path: str, body: bytes) -> list[Any]:
    if path.endswith(".json"):
        return [json.loads(body)]
    return list(yaml.load_all(body, Loader=_LOADER))


def _flatten(doc: Any) -> list[Any]:
    if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and "items" in doc:
        return [item for inner in doc.get("items") or [] for item in _flatten(inner)]
    return [doc]


def _missing(doc: Obj) -> list[str]:
    problems = []
    for field in ("apiVersion", "kind"):
        if not isinstance(doc.get(field), str) or not doc.get(field):
            problems.append(f'missing field "{field}"')
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        problems.append('missing field "metadata.name"')
    return problems


def parse_files(files: dict[str, bytes]) -> tuple[list[Declared], list[SyncError]]:
    """Every object the files declare (in path order), and the errors reading them."""
    declared: list[Declared] = []
    errors: list[SyncError] = []
    for path in sorted(files):
        if not path.endswith(_EXTENSIONS) or _IGNORED_DIRS & set(path.split("/")):
            continue
        try:
            docs = _documents(path, files[path])
        except (ValueError, yaml.YAMLError) as exc:
            detail = str(exc).replace("\n", " ")
            errors.append(SyncError(PATH_ERROR, f"{detail}\n\npath: {path}"))
            continue
        for doc in (item for raw in docs for item in _flatten(raw)):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                errors.append(SyncError(RESOURCE_ERROR, f"not an object\n\npath: {path}"))
                continue
            problems = _missing(doc)
            if problems:
                errors.append(SyncError(RESOURCE_ERROR, "\n".join(problems), (ref_of(doc, path),)))
                continue
            annotations = doc["metadata"].get("annotations") or {}
            managed = annotations.get(UNMANAGED[0]) != UNMANAGED[1]
            declared.append(Declared(doc, path, managed))
    return declared, errors


def declared_scopes(declared: list[Declared]) -> dict[tuple[str, str], bool]:
    """(apiVersion, kind) → namespaced, for the kinds CRDs of the source define."""
    scopes: dict[tuple[str, str], bool] = {}
    for item in declared:
        if item.kind != "CustomResourceDefinition":
            continue
        spec = item.obj.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            api_version = f"{spec.get('group')}/{version.get('name')}"
            scopes[(api_version, str(kind))] = spec.get("scope") == "Namespaced"
    return scopes


def _gvk_text(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def validate(
    declared: list[Declared], scoper: Scoper, repo_namespace: str = ""
) -> tuple[list[Declared], list[SyncError]]:
    """The declared objects with namespaces settled, and validation errors (KNV1021, KNV1058).

    `repo_namespace` is the RepoSync's namespace; "" for a RootSync.
    """
    from_crds = declared_scopes(declared)
    valid: list[Declared] = []
    errors: list[SyncError] = []
    for item in declared:
        key = (item.api_version, item.kind)
        namespaced = scoper(*key)
        if namespaced is None:
            namespaced = from_crds.get(key)
        ref = (ref_of(item.obj, item.path),)
        if namespaced is None:
            gk = group_kind(*key)
            message = (
                f'No CustomResourceDefinition is defined for the type "{gk}" in the cluster.\n'
                "Resource types that are not native Kubernetes objects must have a "
                f"CustomResourceDefinition.\n\nConfig Sync will retry until a "
                f'CustomResourceDefinition is defined for the type "{gk}" in the cluster.'
            )
            errors.append(SyncError(UNKNOWN_KIND, message, ref))
            continue
        obj = dict(item.obj)
        metadata = obj["metadata"] = dict(obj["metadata"])
        if repo_namespace and not namespaced:
            message = (
                "Resources in namespace Repos must be Namespace-scoped type, but objects of type "
                f"{_gvk_text(*key)} are Cluster-scoped. Move {item.name} to the Root repo."
            )
            errors.append(SyncError(BAD_SCOPE, message, ref))
            continue
        if repo_namespace and metadata.get("namespace", repo_namespace) != repo_namespace:
            message = (
                f'Resources in the "{repo_namespace}" repo must either omit metadata.namespace '
                f'or declare metadata.namespace="{repo_namespace}"'
            )
            errors.append(SyncError(BAD_SCOPE, message, ref))
            continue
        if namespaced:
            metadata["namespace"] = metadata.get("namespace") or repo_namespace or "default"
        else:
            metadata.pop("namespace", None)
        valid.append(Declared(obj, item.path))
    return valid, errors


def apply_order(item: Declared) -> tuple[int, str]:
    """CRDs first, then Namespaces, then everything else (prune in the reverse order)."""
    rank = {"CustomResourceDefinition": 0, "Namespace": 1}.get(item.kind, 2)
    return rank, item.path
