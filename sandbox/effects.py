"""What an operation does when it completes, as data: an effect kind registered by the API that
defines it, plus JSON arguments (`make_effect`). Nothing is a closure, so a sandbox restarted on
the same state completes operations started before the restart.

Effects get the runtime of the sandbox running them (`sandbox.runtime.Runtime`); this module
names no runtime type, so the runtime and the operations it owns can both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sandbox.errors import ApiError
from sandbox.store import Store

Effect = dict[str, Any]  # {"kind": ..., "args": {...}}
EffectFn = Callable[[Any, dict[str, Any]], "dict[str, Any] | None"]
_EFFECTS: dict[str, EffectFn] = {}


class _Stored(Protocol):
    store: Store


def effect(kind: str) -> Callable[[EffectFn], EffectFn]:
    """Register an effect kind: `fn(runtime, args)` applies it and returns the operation's
    response (or None). It may raise ApiError to make the operation end in error."""

    def register(fn: EffectFn) -> EffectFn:
        if kind in _EFFECTS and _EFFECTS[kind] is not fn:
            raise ValueError(f"effect {kind!r} registered twice")
        _EFFECTS[kind] = fn
        return fn

    return register


def make_effect(kind: str, **args: Any) -> Effect:
    """The stored form of an effect."""
    return {"kind": kind, "args": args}


def is_registered(kind: str) -> bool:
    """Whether an effect kind is known."""
    return kind in _EFFECTS


def apply_effect(rt: Any, stored: Effect) -> dict[str, Any] | None:
    """Run a stored effect with the runtime `rt`; its response, or None."""
    fn = _EFFECTS.get(stored["kind"])
    if fn is None:
        raise ApiError(500, f"operation effect {stored['kind']!r} is not registered", "INTERNAL")
    return fn(rt, stored["args"])


@effect("store.put")
def _put(rt: _Stored, args: dict[str, Any]) -> dict[str, Any] | None:
    rt.store.put(args["collection"], args["key"], args["doc"])
    return dict(args["doc"])


@effect("store.delete")
def _delete(rt: _Stored, args: dict[str, Any]) -> dict[str, Any] | None:
    rt.store.delete(args["collection"], args["key"])
    return None


@effect("none")
def _nothing(rt: object, args: dict[str, Any]) -> dict[str, Any] | None:
    return args.get("response")
