"""Generic walks over registered kinds (`registry`): ensure one resource (observe → plan →
create or update → wait), remove in reverse dependency order, list a parent's unmanaged
children, and the drift of kinds (a dry run of `ensure`, classified)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from mlplat.converge import registry
from mlplat.converge.context import EnvContext, Outcome, report
from mlplat.converge.findings import DriftClass, Finding, findings
from mlplat.errors import PermanentError
from mlplat.kinds.descriptor import Descriptor, dependency_order
from mlplat.plan import Action, Change
from mlplat.render.desired import Desired

F = TypeVar("F")


def ensure(ctx: EnvContext, desired: Desired, *, absent: bool = False, kind: str = "") -> Outcome:
    """Converge one resource of `kind` (by default its desired kind); `absent`: known missing
    (its parent is planned for creation), so it is not read."""
    managed = registry.managed(kind or desired.kind)
    binding = managed.binding
    observed = None if absent else binding.read(ctx, desired.name)
    change = managed.descriptor.plan(desired, observed)
    if ctx.dry_run:
        return report(ctx, change, applied=False)
    if binding.settle is not None:
        observed = binding.settle(ctx, desired, observed)
    elif change.action is Action.NOOP:
        return report(ctx, change, applied=False)
    elif change.action is Action.CREATE:
        _required(binding.create, change)(ctx, desired)
    if change.action is Action.UPDATE:
        calls = update_calls(managed.descriptor, change)
        _required(binding.update, change)(ctx, desired, calls, observed or {})
    return report(ctx, change, applied=change.action is not Action.NOOP)


def ensure_kind(ctx: EnvContext, kind: str, *, absent: bool = False) -> list[Outcome]:
    """Every resource of `kind` the spec declares in the environment."""
    descriptor = registry.managed(kind).descriptor
    return [ensure(ctx, d, absent=absent, kind=kind) for d in descriptor.desired(ctx)]


def update_calls(descriptor: Descriptor, change: Change) -> list[tuple[str, Any]]:
    """The calls that make `change`, in its table's order; PermanentError when a changed
    field has none (the descriptor test keeps rendered fields out of this)."""
    keys, missing = descriptor.update_keys(f.path for f in change.fields)
    if missing:
        raise PermanentError(
            f"{change.kind} {change.name}: {', '.join(missing)} cannot be changed in place; "
            "change it by hand or revert the spec"
        )
    return [(key, descriptor.updates[key]) for key in keys]


def deletion(
    ctx: EnvContext, kind: str, name: str, exists: bool, remove: Callable[[], Any]
) -> Outcome:
    """Report (and unless planning, do) one deletion of something that `exists`."""
    if not exists:
        return report(ctx, Change(kind, name, Action.NOOP), applied=False, detail="absent")
    if not ctx.dry_run:
        remove()
    return report(ctx, Change(kind, name, Action.DELETE), applied=not ctx.dry_run)


def deleter(kind: str) -> Callable[[EnvContext, str], None]:
    """The call that deletes a resource of `kind` by name (and waits until it is gone)."""
    return _required(registry.managed(kind).binding.delete, Change(kind, "*", Action.DELETE))


def remove(ctx: EnvContext, kind: str, name: str) -> Outcome:
    """Delete one resource of `kind` if it exists, waiting until it is gone."""
    found = registry.managed(kind).binding.read(ctx, name)
    delete = deleter(kind)
    return deletion(ctx, kind, name, found is not None, lambda: delete(ctx, name))


def remove_kinds(ctx: EnvContext, kinds: Sequence[str]) -> list[Outcome]:
    """Every declared resource of `kinds`, dependants before what they depend on."""
    ordered = dependency_order(registry.descriptors(tuple(kinds)))
    return [
        remove(ctx, descriptor.kind, desired.name)
        for descriptor in reversed(ordered)
        for desired in descriptor.desired(ctx)
    ]


def unmanaged(
    ctx: EnvContext, kind: str, members: Iterable[tuple[str, dict[str, Any]]] | None = None
) -> list[Finding]:
    """The members of `kind` inside their parent that the spec does not declare (`members`:
    already listed, else listed now in one batch read)."""
    managed = registry.managed(kind)
    binding, descriptor = managed.binding, managed.descriptor
    if members is None:
        members = _required(binding.members, Change(kind, "*", Action.NOOP))(ctx)
    declared = {binding.listed_as(ctx, d.name) for d in descriptor.desired(ctx)}
    return [
        Finding(
            ctx.env_name,
            f"{kind} {name}",
            DriftClass.UNMANAGED,
            actual=str(found.get(descriptor.shown, "")) if descriptor.shown else "",
        )
        for name, found in members
        if name not in declared
    ]


def drift(ctx: EnvContext, kinds: Sequence[str]) -> list[Finding]:
    """The findings of `kinds` in the environment: each declared resource planned (a dry run,
    so nothing changes), then, for each kind whose binding lists its parent's members, the
    undeclared ones."""
    if not ctx.dry_run:
        raise ValueError("drift needs a dry-run context")
    ordered = dependency_order(registry.descriptors(tuple(kinds)))
    outcomes = [outcome for d in ordered for outcome in ensure_kind(ctx, d.kind)]
    children = [
        finding
        for d in ordered
        if registry.managed(d.kind).binding.members is not None
        for finding in unmanaged(ctx, d.kind)
    ]
    return findings(ctx.env_name, outcomes) + children


def _required(call: F | None, change: Change) -> F:
    if call is None:
        raise PermanentError(f"{change.kind} {change.name}: mlplat cannot {change.action.value} it")
    return call
