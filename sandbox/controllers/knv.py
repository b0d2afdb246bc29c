"""Config Sync's errors: a KNV code, a message, the resources concerned, in its status shapes.

Codes used (as Config Sync assigns them): 1021 unknown kind, 1058 object outside a RepoSync's
namespace, 1061 invalid RootSync/RepoSync (missing Secret, wrong namespace), 2001 unreadable
file, 2004 source (git) error, 2009 apply error, 2010 object without apiVersion/kind/name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
UNKNOWN_KIND = "1021"
BAD_SCOPE = "1058"
INVALID_SYNC = "1061"
PATH_ERROR = "2001"
SOURCE_ERROR = "2004"
APPLY_ERROR = "2009"
RESOURCE_ERROR = "2010"


@dataclass(frozen=True)
class ResourceRef:
    """An object an error is about, as Config Sync prints it."""

    source_path: str
    name: str
    namespace: str
    api_version: str
    kind: str

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    def text(self) -> str:
        lines = [f"source: {self.source_path}"] if self.source_path else []
        if self.namespace:
            lines.append(f"namespace: {self.namespace}")
        lines.append(f"metadata.name:{' ' + self.name if self.name else ''}")
        lines.append(f"group:{' ' + self.group if self.group else ''}")
        lines += [f"version: {self.version}", f"kind: {self.kind}"]
        return "\n".join(lines)

    def status(self) -> Obj:
        """The `resources[]` entry of a ConfigSyncError."""
        found: Obj = {
            "sourcePath": self.source_path,
            "name": self.name,
            "gvk": {"group": self.group, "version": self.version, "kind": self.kind},
        }
        if self.namespace:
            found["namespace"] = self.namespace
        return found

    def hub(self) -> Obj:
        """The `errorResources[]` entry GKE Hub reports."""
        return {
            "sourcePath": self.source_path,
            "resourceName": self.name,
            "resourceNamespace": self.namespace,
            "resourceGvk": {"group": self.group, "version": self.version, "kind": self.kind},
        }


def ref_of(obj: Obj, source_path: str = "") -> ResourceRef:
    """The ResourceRef of a (possibly incomplete) object read from a file."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    return ResourceRef(
        source_path,
        str(metadata.get("name") or ""),
        str(metadata.get("namespace") or ""),
        str(obj.get("apiVersion") or ""),
        str(obj.get("kind") or ""),
    )


@dataclass(frozen=True)
class SyncError:
    """One Config Sync error."""

    code: str
    message: str
    resources: tuple[ResourceRef, ...] = ()

    def text(self) -> str:
        """`KNV<code>: <message>`, the resources, and the documentation pointer."""
        parts = [f"KNV{self.code}: {self.message}"]
        parts += sorted(ref.text() for ref in self.resources)
        parts.append(f"For more information, see https://g.co/cloud/acm-errors#knv{self.code}")
        return "\n\n".join(parts)

    def status(self) -> Obj:
        """A ConfigSyncError for RootSync/RepoSync status."""
        found: Obj = {"code": self.code, "errorMessage": self.text()}
        if self.resources:
            found["resources"] = [ref.status() for ref in self.resources]
        return found

    def hub(self) -> Obj:
        """A ConfigManagementSyncError for the fleet feature's membership state."""
        found: Obj = {"code": self.code, "errorMessage": self.text()}
        if self.resources:
            found["errorResources"] = [ref.hub() for ref in self.resources]
        return found


def error_summary(errors: list[SyncError]) -> Obj:
    """The errorSummary next to an errors list."""
    return {"totalCount": len(errors), "truncated": False, "errorCountAfterTruncation": len(errors)}


def group_kind(api_version: str, kind: str) -> str:
    """`Kind.group` as Kubernetes prints a GroupKind (`Kind` for the core group)."""
    group = api_version.rpartition("/")[0]
    return f"{kind}.{group}" if group else kind
