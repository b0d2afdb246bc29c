"""A managed kind's descriptor: how it renders, which fields are compared, which cannot change,
which call changes the others, its parent and children, and what must exist before it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mlplat.plan import Change, plan
from mlplat.render.desired import Desired
from mlplat.specs import Environment, Platform, PlatformSpec, naming

EVERY_FIELD = ""  # an `updates` key that matches every field: the whole body is sent again


class InEnvironment:
    """One environment of a platform spec: for classes with `spec` and `env_name`."""

    spec: PlatformSpec
    env_name: str

    @property
    def platform(self) -> Platform:
        return self.spec.platform

    @property
    def env(self) -> Environment:
        return self.spec.environments[self.env_name]

    @property
    def project(self) -> str:
        return naming.project_id(self.platform, self.env)

    @property
    def region(self) -> str:
        return naming.region(self.platform, self.env)


class Scope(Protocol):
    """What rendering a kind needs: an environment and its GitOps repository's address (an
    EnvContext is one)."""

    @property
    def spec(self) -> PlatformSpec: ...
    @property
    def env_name(self) -> str: ...
    @property
    def platform(self) -> Platform: ...
    @property
    def env(self) -> Environment: ...
    @property
    def project(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def repo_url(self) -> str: ...


@dataclass(frozen=True)
class Update:
    """The API call that changes a field in place: its method (`updateCluster`, `patch`…),
    the request field that carries the new value, and the message that wraps it, if any."""

    call: str
    field: str = ""
    wrapper: str = ""


@dataclass(frozen=True)
class Descriptor:
    """One managed kind (`compute/network`, `gke/node-pool`…).

    - `render`: the desired resources of the kind in one environment (None: observed by hand,
      its compared fields named in `fields`);
    - `compared`: whether the rendered body is compared (False: only existence is);
    - `immutable`: dotted fields that never change in place (a difference needs replacement);
    - `updates`: dotted field → the call that changes it, in the order calls are made;
    - `parent`, `children`: where the kind lives, and the kinds whose undeclared members inside
      it are reported as unmanaged; `shown`: the field such a finding shows;
    - `after`: kinds that must exist before this one (teardown goes the other way)."""

    kind: str
    render: Callable[[Scope], tuple[Desired, ...]] | None = None
    compared: bool = True
    fields: tuple[str, ...] = ()
    immutable: tuple[str, ...] = ()
    updates: Mapping[str, Update] = field(default_factory=dict)
    parent: str = ""
    children: tuple[str, ...] = ()
    shown: str = ""
    after: tuple[str, ...] = ()

    def desired(self, scope: Scope) -> tuple[Desired, ...]:
        return () if self.render is None else self.render(scope)

    def plan(self, desired: Desired, observed: Mapping[str, Any] | None) -> Change:
        """Desired vs observed, over the compared fields; ReplacementRequired on an immutable
        one."""
        body = desired.body if self.compared else {}
        return plan(desired.kind, desired.name, body, observed, immutable=self.immutable)

    def update_key(self, path: str) -> str | None:
        """The `updates` key whose call changes the dotted field `path` (the longest match)."""
        matches = [key for key in self.updates if _under(path, key)]
        return max(matches, key=len) if matches else None

    def is_immutable(self, path: str) -> bool:
        return any(_under(path, key) for key in self.immutable if key)

    def update_keys(self, paths: Iterable[str]) -> tuple[list[str], list[str]]:
        """The `updates` keys that the changed `paths` need, in the table's order, and the
        top-level fields of the paths no call changes."""
        wanted: set[str] = set()
        missing: set[str] = set()
        for path in paths:
            key = self.update_key(path)
            if key is None:
                missing.add(path.split(".", 1)[0])
            else:
                wanted.add(key)
        return [key for key in self.updates if key in wanted], sorted(missing)

    def uncovered(self, paths: Iterable[str]) -> list[str]:
        """The fields among `paths` that are neither immutable nor changed by a call."""
        return sorted(p for p in paths if not self.is_immutable(p) and self.update_key(p) is None)


def _under(path: str, key: str) -> bool:
    return key in (EVERY_FIELD, path) or path.startswith(key + ".")


def leaves(body: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The dotted paths of a body's leaves, as the planner compares them."""
    found: list[str] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            found.extend(leaves(value, path + "."))
        else:
            found.append(path)
    return found


def dependency_order(descriptors: Sequence[Descriptor]) -> list[Descriptor]:
    """The descriptors so that each comes after those it needs (`after`, within the given
    ones); ties keep the given order. Teardown walks the reverse."""
    pending = list(descriptors)
    present = {d.kind for d in pending}
    done: set[str] = set()
    ordered: list[Descriptor] = []
    while pending:
        ready = next(
            (d for d in pending if all(k in done or k not in present for k in d.after)), None
        )
        if ready is None:
            cycle = ", ".join(d.kind for d in pending)
            raise ValueError(f"kinds depend on each other in a cycle: {cycle}")
        ordered.append(ready)
        done.add(ready.kind)
        pending.remove(ready)
    return ordered


def pick(body: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The part of `body` under the dotted `paths`, in its shape (for an update's request)."""
    picked: dict[str, Any] = {}
    for path in paths:
        *parents, leaf = path.split(".")
        source: Any = body
        target = picked
        for key in parents:
            source = source.get(key, {})
            target = target.setdefault(key, {})
        if leaf in source:
            target[leaf] = source[leaf]
    return picked


def value_at(body: Mapping[str, Any], path: str) -> Any:
    """The value at the dotted `path` of `body` (None when absent)."""
    found: Any = body
    for key in path.split("."):
        found = found.get(key) if isinstance(found, Mapping) else None
    return found
