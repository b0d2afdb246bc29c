"""One Compute collection's verbs, written once: get, list and aggregatedList (stored or derived
items, filtered and paged), and for stored ones the insert, change and delete operations.

A collection module declares what differs: its name, scope (`global`, `regions`, `zones`, or
`project` for regions and zones themselves), how an item is viewed or where derived items come
from, the document an insert stores, and the effects of its other methods.

    SUBNETWORKS = Collection("subnetworks", "subnetwork", "regions", store="compute.subnetworks")
    SUBNETWORKS.serve_reads(HANDLERS)   # compute.subnetworks.get, .list, .aggregatedList
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Collection as Names
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.api import Call, Handlers
from sandbox.effects import make_effect
from sandbox.gcp.compute.common import (
    activate_effect,
    check_name,
    check_region,
    check_zone,
    exists,
    forget_effect,
    guard,
    link,
    merge_effect,
    missing,
    new_id,
    path_of,
    public,
    start_operation,
    timestamp,
    unchanged,
    visible,
)
from sandbox.gcp.resourcemanager.projects import Project
from sandbox.listing import page
from sandbox.runtime import Runtime

Item = dict[str, Any]
Scope = Literal["project", "global", "regions", "zones"]
# Every item of a project with where it lives (region or zone name, "" for global).
Source = Callable[[Call, str], Iterable[tuple[str, Item]]]
View = Callable[[Call, str, Item], Item]


def _public_view(call: Call, project_id: str, doc: Item) -> Item:
    return public(doc)


@dataclass(frozen=True)
class Found:
    """A stored item a request names: its project, store key and document."""

    project: Project
    key: str
    doc: Item


@dataclass(frozen=True)
class Collection:
    """A Compute collection: `compute.<resource>.<verb>` methods on
    `projects/P/[global/ | regions/R/ | zones/Z/]<resource>/<name>` (scope `project`: none).

    Stored items live in `store` under `<project>[/<region or zone>]/<name>`; derived items
    (and stored ones shown with others) come from `source` instead, when given. `known` lists
    the regions or zones that exist, where a list elsewhere answers 404."""

    resource: str  # plural, as in method ids and paths: "subnetworks"
    param: str  # the path parameter naming one item, also its kind: "subnetwork"
    scope: Scope
    store: str = ""
    source: Source | None = None
    view: View = _public_view
    known: Names[str] | None = None

    @property
    def kind(self) -> str:
        """`compute#subnetwork`."""
        return f"compute#{self.param}"

    @property
    def regional_or_zonal(self) -> bool:
        """Whether items live in a region or zone (and an aggregated list gathers them)."""
        return self.scope in ("regions", "zones")

    def where(self, call: Call) -> str:
        """The region or zone a request names ("" for a global collection)."""
        if not self.regional_or_zonal:
            return ""
        return str(call.params[self.scope.removesuffix("s")])

    def segment(self, where: str) -> str:
        """`global`, `regions/R` or `zones/Z`: the operation scope and path segment ("" for a
        collection right under the project, as regions and zones)."""
        if self.scope == "project":
            return ""
        if self.scope == "global":
            return "global"
        return f"{self.scope}/{where}"

    def path(self, project_id: str, where: str, name: str = "") -> str:
        """`projects/P/regions/R/subnetworks/N` (the collection's path without a name)."""
        parts = ("projects", project_id, self.segment(where), self.resource, name)
        return "/".join(part for part in parts if part)

    def key(self, project_id: str, where: str, name: str) -> str:
        """The store key of a stored item."""
        return "/".join(part for part in (project_id, where, name) if part)

    def located(self, project_id: str, where: str) -> Item:
        """The `region` or `zone` link a scoped item carries."""
        if not self.regional_or_zonal:
            return {}
        return {self.scope.removesuffix("s"): link(f"projects/{project_id}/{self.scope}/{where}")}

    def created(self, rt: Runtime, ident: str) -> Item:
        """The fields every new item starts with: kind, id, creationTimestamp."""
        return {"kind": self.kind, "id": ident, "creationTimestamp": timestamp(rt)}

    # Reads

    def find(self, call: Call) -> Found:
        """The visible stored item the request names, or 404."""
        project = guard(call)
        pid, where, name = project["projectId"], self.where(call), call.params[self.param]
        key = self.key(pid, where, name)
        doc = call.rt.store.get(self.store, key)
        if doc is None or not visible(doc):
            raise missing(self.path(pid, where, name))
        return Found(project, key, doc)

    def _items(self, call: Call, project_id: str) -> Iterable[tuple[str, Item]]:
        if self.source is not None:
            return self.source(call, project_id)
        return (
            (key.split("/")[1] if self.regional_or_zonal else "", self.view(call, project_id, doc))
            for key, doc in call.rt.store.items(self.store, f"{project_id}/")
            if visible(doc)
        )

    def get(self, call: Call) -> Item:
        """`compute.<resource>.get`."""
        if self.source is None:
            found = self.find(call)
            return self.view(call, found.project["projectId"], found.doc)
        pid = guard(call)["projectId"]
        where, name = self.where(call), call.params[self.param]
        for item_where, item in self.source(call, pid):
            if item_where == where and item["name"] == name:
                return item
        raise missing(self.path(pid, where, name))

    def list_items(self, call: Call) -> Item:
        """`compute.<resource>.list`: one scope's items, filtered and paged."""
        pid = guard(call)["projectId"]
        where = self.where(call)
        if self.known is not None and where not in self.known:
            raise missing(f"projects/{pid}/{self.segment(where)}")
        if self.source is None:
            prefix = f"{self.key(pid, where, '')}/"
            docs = call.rt.store.values(self.store, prefix)
            items = [self.view(call, pid, doc) for doc in docs if visible(doc)]
        else:
            items = [item for item_where, item in self.source(call, pid) if item_where == where]
        return list_response(call, f"{self.kind}List", self.path(pid, where), items)

    def aggregated_list(self, call: Call) -> Item:
        """`compute.<resource>.aggregatedList`: items keyed by `regions/R` or `zones/Z`."""
        project = guard(call)
        by_scope: dict[str, list[Item]] = {}
        for where, item in self._items(call, project["projectId"]):
            by_scope.setdefault(self.segment(where), []).append(item)
        kind = f"{self.kind}AggregatedList"
        return aggregated_response(call, kind, self.resource, project, by_scope)

    def serve_reads(self, handlers: Handlers) -> None:
        """Register get and list, and aggregatedList for a regional or zonal collection."""
        handlers(f"compute.{self.resource}.get")(self.get)
        handlers(f"compute.{self.resource}.list")(self.list_items)
        if self.regional_or_zonal:
            handlers(f"compute.{self.resource}.aggregatedList")(self.aggregated_list)

    # Writes (stored collections)

    def inserting(self, call: Call) -> tuple[Project, str]:
        """The project of an insert and the new item's name, checked in Compute's order:
        the project, the region or zone, the name."""
        project = guard(call)
        if self.scope == "regions":
            check_region(self.where(call))
        elif self.scope == "zones":
            check_zone(self.where(call))
        return project, check_name(call.body.get("name"))

    def insert(
        self,
        call: Call,
        project: Project,
        name: str,
        document: Callable[[str, str], Item],
        *,
        ready: Callable[[str], Item] | None = None,
        taken: bool = False,
    ) -> Item:
        """Store `document(id, path)` pending, and start the insert that makes it visible
        (`ready(key)`, by default activation); 409 when the name is `taken` or stored."""
        pid, where = project["projectId"], self.where(call)
        path, key = self.path(pid, where, name), self.key(pid, where, name)
        rt = call.rt
        with rt.store.transaction():
            if taken or rt.store.get(self.store, key) is not None:
                raise exists(path)
            ident = new_id(rt)
            rt.store.put(self.store, key, {**document(ident, path), "_pending": True})
            return start_operation(
                call,
                project,
                scope=self.segment(where),
                operation_type="insert",
                target=path,
                target_id=ident,
                effect=ready(key) if ready else activate_effect(self.store, key),
                failure_effect=forget_effect(self.store, key),
            )

    def operate(self, call: Call, project: Project, item: Item, kind: str, effect: Item) -> Item:
        """Start an operation of type `kind` on an existing item."""
        return start_operation(
            call,
            project,
            scope=self.segment(self.where(call)),
            operation_type=kind,
            target=path_of(item["selfLink"]),
            target_id=item["id"],
            effect=effect,
        )

    def changed_fields(self, doc: Item, body: Item, mutable: Names[str]) -> Item:
        """The mutable fields of a PATCH body; 400 when it changes another field."""
        unchanged(public(doc), body, set(mutable), self.param)
        return {key: value for key, value in body.items() if key in mutable}

    def merge(self, call: Call, found: Found, fields: Item, kind: str = "patch") -> Item:
        """Start an operation replacing top-level fields of a stored item."""
        return self.operate(
            call, found.project, found.doc, kind, merge_effect(self.store, found.key, fields)
        )

    def delete(self, call: Call, effect: Callable[[Found], Item] | None = None) -> Item:
        """`compute.<resource>.delete`: an operation removing the item (or running `effect`)."""
        found = self.find(call)
        gone = (
            effect(found)
            if effect
            else make_effect("store.delete", collection=self.store, key=found.key)
        )
        return self.operate(call, found.project, found.doc, "delete", gone)


_FILTER = re.compile(r'^\s*\(?\s*([\w.]+)\s*(=|eq|!=|ne)\s*"?([^")]*)"?\s*\)?\s*$')


def _filtered(items: list[Item], expression: str) -> list[Item]:
    # Compute filters are a small language; the sandbox understands `field = value` (and
    # `eq`, `!=`, `ne`, where `eq`/`ne` values are regular expressions), else ignores the filter.
    found = _FILTER.match(expression or "")
    if not found:
        return items
    field, op, value = found.groups()
    regex = op in ("eq", "ne")

    def hit(item: Item) -> bool:
        actual = str(item.get(field, ""))
        return bool(re.fullmatch(value, actual)) if regex else actual == value

    return [item for item in items if hit(item) == (op in ("=", "eq"))]


def list_response(call: Call, kind: str, path: str, items: list[Item]) -> Item:
    """A Compute list (`compute#networkList` …) of rendered items, filtered and paged."""
    chosen, token = page(
        call.query, _filtered(items, call.arg("filter", "")), size_param="maxResults"
    )
    body: Item = {"kind": kind, "id": path, "selfLink": link(path)}
    if chosen:
        body["items"] = chosen
    if token:
        body["nextPageToken"] = token
    return body


def aggregated_response(
    call: Call, kind: str, field: str, project: Project, by_scope: dict[str, list[Item]]
) -> Item:
    """A Compute aggregated list: `items` keyed by `regions/R` or `zones/Z`."""
    path = f"projects/{project['projectId']}/aggregated/{field}"
    items: dict[str, Any] = {}
    for scope, scoped in sorted(by_scope.items()):
        chosen = _filtered(scoped, call.arg("filter", ""))
        if chosen:
            items[scope] = {field: chosen}
    return {"kind": kind, "id": path, "items": items, "selfLink": link(path)}
