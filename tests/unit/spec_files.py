"""Helpers for tests that need a writable copy of the reference spec."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parents[2] / "infra_specs"


def copy_reference(target: Path) -> Path:
    """A copy of infra_specs/ (without the schema folder) at `target/infra_specs`."""
    root = target / "infra_specs"
    shutil.copytree(REFERENCE, root, ignore=shutil.ignore_patterns("schema"))
    return root


def set_path(data: Any, dotted: str, value: Any) -> None:
    """Set `a.b.0.c` in nested dicts/lists, creating mappings on the way."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def line_of(file: Path, dotted: str) -> int:
    """The 1-based line of the key at `dotted` in a block-style YAML file."""
    node = yaml.compose(file.read_text())
    for part in dotted.split("."):
        assert node is not None
        if isinstance(node, yaml.SequenceNode):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
            continue
        for key, value in node.value:
            if key.value == part:
                line = key.start_mark.line + 1
                node = value
                break
        else:
            raise KeyError(dotted)
    return line


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into nested dicts/lists (keys and indexes), the root `()` first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found
