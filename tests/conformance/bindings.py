"""Placeholder values of a replayed fixture, telling apart resources the recording merged.

Config Connector's normalization writes every resource of a kind as one placeholder (two
subnets both `${subnetworkID}`), so a fixture that creates two of a kind names them alike.
The requests still tell them apart: a create of a placeholder whose resource already exists
(with the lookups just before it) is a new resource and gets a new value; a delete returns the
placeholder to the resource created before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_ONE = re.compile(r"^\$\{(\w+)\}$")
_LAST = re.compile(r"/\$\{(\w+)\}$")


def created(exchange: dict[str, Any]) -> str | None:
    """The placeholder a create request names its new resource by (body `name` or an `…Id`
    query parameter), if it is a create."""
    if exchange["method"] != "POST" or _LAST.search(exchange["path"]) or ":" in exchange["path"]:
        return None
    candidates = [v for k, v in exchange["query"].items() if k.endswith("Id")]
    body = exchange.get("body")
    if isinstance(body, dict) and isinstance(body.get("name"), str):
        candidates.append(body["name"])
    for candidate in candidates:
        found = _ONE.match(candidate)
        if found is not None:
            return found.group(1)
    return None


class Bindings:
    """Placeholder → value, with a stack per placeholder for resources named alike."""

    def __init__(self, exchanges: list[dict[str, Any]], default: Callable[[str], str]) -> None:
        self.exchanges = exchanges
        self.default = default
        self.stacks: dict[str, list[str]] = {}
        self.live: set[str] = set()
        self.fresh_at: dict[int, str] = {}
        for index, exchange in enumerate(exchanges):
            name = created(exchange)
            if name is None:
                continue
            resource = exchange["path"] + "/${" + name + "}"
            start = index
            while start > 0 and _reads(exchanges[start - 1], resource):
                start -= 1
            self.fresh_at[start] = name

    def value(self, name: str, *, first: bool = False) -> str:
        stack = self.stacks.setdefault(name, [self.default(name)])
        return stack[0] if first else stack[-1]

    def before(self, index: int) -> None:
        """Bind a new value when this exchange starts the making of a second resource."""
        name = self.fresh_at.get(index)
        if name is not None and name in self.live:
            stack = self.stacks[name]
            stack.append(f"{stack[0]}-{len(stack) + 1}")
            self.live.discard(name)

    def after(self, index: int, status: int) -> None:
        exchange = self.exchanges[index]
        if status != 200:
            return
        name = created(exchange)
        if name is not None:
            self.live.add(name)
            return
        last = _LAST.search(exchange["path"])
        if exchange["method"] == "DELETE" and last is not None:
            stack = self.stacks.get(last.group(1), [])
            if len(stack) > 1:
                stack.pop()


def _reads(exchange: dict[str, Any], resource: str) -> bool:
    return bool(exchange["method"] == "GET" and exchange["path"] == resource)
