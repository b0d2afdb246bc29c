"""YAML documents that remember where each key came from, for errors with file and line."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KeyPath = tuple[str | int, ...]
MAX_FILE_BYTES = 1_000_000  # a spec file is a few KB; anything near this is a mistake
MAX_VALUES = 100_000  # values in one file once aliases are expanded (an alias bomb explodes)
MAX_DEPTH = 64  # nesting of mappings and lists


@dataclass(frozen=True)
class Origin:
    """Where a value was written: a file and a 1-based line."""

    file: Path
    line: int


@dataclass(frozen=True)
class Document:
    """A parsed YAML mapping and the origin of every key path in it."""

    data: dict[str, Any]
    origins: dict[KeyPath, Origin] = field(default_factory=dict)
    file: Path = Path()

    def origin(self, path: KeyPath) -> Origin:
        """The origin of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.origins.get(tuple(path[:end]))
            if found is None:  # a mapping key written as a number (`1: x`) is kept as text
                found = self.origins.get(tuple(str(part) for part in path[:end]))
            if found is not None:
                return found
        return Origin(self.file, 1)


class YamlSyntaxError(ValueError):
    """A file that is not valid YAML, with the line where parsing failed."""

    def __init__(self, file: Path, line: int, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.message = message


@dataclass
class _Walker:
    """Builds Python values from a composed node tree, recording each key's line."""

    file: Path
    origins: dict[KeyPath, Origin]
    loader: yaml.SafeLoader = field(default_factory=lambda: yaml.SafeLoader(""))
    values: int = 0

    def walk(self, node: yaml.Node, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise YamlSyntaxError(
                self.file, line, f"more than {MAX_VALUES} values (aliases expanding too far?)"
            )
        if len(path) > MAX_DEPTH:
            raise YamlSyntaxError(
                self.file, line, f"nested deeper than {MAX_DEPTH} levels (a recursive alias?)"
            )
        self.origins[path] = Origin(self.file, line)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                if not isinstance(key, str | int | float | bool):
                    raise YamlSyntaxError(self.file, line, "keys must be plain scalars")
                if key in result:
                    raise YamlSyntaxError(self.file, line, f"duplicate key {key!r}")
                child = (*path, str(key))
                result[key] = self.walk(value_node, child)
                self.origins[child] = Origin(self.file, line)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)


def load_document(file: Path) -> Document:
    """Parse one YAML file holding a mapping (an empty file is an empty mapping). Files over
    MAX_FILE_BYTES, and values that aliases expand past MAX_VALUES or MAX_DEPTH, are refused
    before they cost time or memory."""
    text = _read(file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError as exc:
        raise YamlSyntaxError(file, 1, "invalid YAML: nested too deeply") from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlSyntaxError(file, line, f"invalid YAML: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(file, 1, f"invalid YAML: {exc}") from exc
    if node is None:
        return Document({}, {(): Origin(file, 1)}, file)
    origins: dict[KeyPath, Origin] = {}
    try:
        data = _Walker(file, origins).walk(node, ())
    except YamlSyntaxError:
        raise
    except yaml.MarkedYAMLError as exc:  # a constructor's: a bad tag or value
        mark = exc.problem_mark
        raise YamlSyntaxError(
            file, mark.line + 1 if mark else 1, f"invalid YAML: {exc.problem}"
        ) from exc
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise YamlSyntaxError(file, 1, f"invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise YamlSyntaxError(file, 1, "the file must hold a mapping of keys to values")
    return Document(data, origins, file)


def _read(file: Path) -> str:
    try:
        # Non-blocking, so that a FIFO (or a device) named like a spec file is refused at once
        # instead of waiting for a writer that never comes.
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise YamlSyntaxError(file, 1, "cannot read: not a regular file")
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise YamlSyntaxError(file, 1, f"cannot read: {reason}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise YamlSyntaxError(file, 1, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(file, 1, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc


def merge(base: Document, overlay: Document) -> Document:
    """Overlay one document on another: mappings merge key by key, anything else is replaced."""
    origins = dict(base.origins)

    def drop(prefix: KeyPath) -> None:
        for key in [k for k in origins if k[: len(prefix)] == prefix and len(k) > len(prefix)]:
            del origins[key]

    def combine(low: Any, high: Any, path: KeyPath) -> Any:
        if isinstance(low, dict) and isinstance(high, dict):
            out = dict(low)
            for key, value in high.items():
                child = (*path, str(key))
                out[key] = combine(low.get(key), value, child) if key in low else value
                if key not in low or not (isinstance(low[key], dict) and isinstance(value, dict)):
                    drop(child)
                    origins.update(
                        {k: v for k, v in overlay.origins.items() if k[: len(child)] == child}
                    )
                elif child in overlay.origins:
                    # A mapping both write: a check of the mapping as a whole points at the
                    # overlay, the file that differs from the shared defaults.
                    origins[child] = overlay.origins[child]
            return out
        return high

    data = combine(base.data, overlay.data, ())
    origins[()] = overlay.origins.get((), Origin(overlay.file, 1))
    return Document(data, origins, overlay.file)
