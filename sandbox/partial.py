"""Google's partial responses: the `fields` system parameter (`fields=name,items(id,status),
a/b/c`) selects what a response body keeps. A selection applies to every element of an array;
`*` selects every member. A malformed selection is a 400, as on Google."""

from __future__ import annotations

import re
from typing import Any

from sandbox.errors import invalid_argument

Tree = dict[str, "Tree | None"]  # member → its sub-selection (None: all of it)
_NAME = re.compile(r"[A-Za-z0-9_$@.\-]+|\*")


def parse(text: str) -> Tree:
    """The selection tree of a `fields` value, or 400."""
    tree, position = _selection(text, 0)
    if position != len(text):
        raise _bad(text)
    return tree


def _bad(text: str) -> Exception:
    return invalid_argument(f"Invalid field selection {text}", "fields")


def _selection(text: str, position: int) -> tuple[Tree, int]:
    tree: Tree = {}
    while True:
        path: list[str] = []
        while True:
            found = _NAME.match(text, position)
            if found is None:
                raise _bad(text)
            path.append(found.group(0))
            position = found.end()
            if position < len(text) and text[position] == "/":
                position += 1
                continue
            break
        sub: Tree | None = None
        if position < len(text) and text[position] == "(":
            sub, position = _selection(text, position + 1)
            if position >= len(text) or text[position] != ")":
                raise _bad(text)
            position += 1
        for name in reversed(path[1:]):
            sub = {name: sub}
        _merge(tree, path[0], sub)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        return tree, position


def _merge(tree: Tree, name: str, sub: Tree | None) -> None:
    if name not in tree:
        tree[name] = sub
        return
    current = tree[name]
    if current is None or sub is None:
        tree[name] = None
        return
    for key, value in sub.items():
        _merge(current, key, value)


def select(value: Any, tree: Tree | None) -> Any:
    """`value` with only the selected members kept."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for name, sub in tree.items():
        if name == "*":
            for key, item in value.items():
                kept[key] = select(item, sub)
        elif name in value:
            kept[name] = select(value[name], sub)
    return kept
