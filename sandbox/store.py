"""Sandbox state: JSON documents in SQLite, keyed by collection and name, safe across threads."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

Doc = dict[str, Any]
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (collection, key)
);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def _private(path: Path) -> None:
    """The file exists, readable by its owner only: it holds the clusters' Secrets."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    path.chmod(0o600)


class Store:
    """A small document store; every public method is atomic, `transaction()` groups several.

    One connection guarded by a re-entrant lock: the sandbox's load is tiny and this keeps
    read-modify-write sequences (check a name is free, then reserve it) trivially correct.
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        _private(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        for journal in ("-wal", "-shm"):  # SQLite gives them the database's mode; made before?
            if path.with_name(path.name + journal).exists():
                _private(path.with_name(path.name + journal))
        self._derived: dict[tuple[str, str, Callable[..., Any]], tuple[str | None, Any]] = {}

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Hold the store for a group of reads and writes; commits at the outermost exit."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._db.execute("BEGIN IMMEDIATE")
                self._owner = threading.get_ident()
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._owner = None
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._owner = None
                self._db.execute("COMMIT")

    def in_transaction(self) -> bool:
        """Whether the calling thread is inside `transaction()`."""
        return self._depth > 0 and self._owner == threading.get_ident()

    def get(self, collection: str, key: str) -> Doc | None:
        """The document at collection/key, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM docs WHERE collection = ? AND key = ?", (collection, key)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def derived(self, collection: str, key: str, build: Callable[[Doc | None], T]) -> T:
        """`build(document)` for the document as stored now (None when absent), rebuilt only
        when its stored text changed. The value is shared between callers: never mutate it."""
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM docs WHERE collection = ? AND key = ?", (collection, key)
            ).fetchone()
        text: str | None = None if row is None else row[0]
        slot = (collection, key, build)
        hit = self._derived.get(slot)
        if hit is not None and hit[0] == text:
            return hit[1]  # type: ignore[no-any-return]
        value = build(None if text is None else dict(json.loads(text)))
        self._derived[slot] = (text, value)
        return value

    def put(self, collection: str, key: str, doc: Doc) -> None:
        """Create or replace the document at collection/key."""
        text = json.dumps(doc, sort_keys=True)
        with self._lock:
            self._db.execute(
                "INSERT INTO docs (collection, key, doc) VALUES (?, ?, ?) "
                "ON CONFLICT (collection, key) DO UPDATE SET doc = excluded.doc",
                (collection, key, text),
            )

    def delete(self, collection: str, key: str) -> bool:
        """Remove collection/key; True when it existed."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM docs WHERE collection = ? AND key = ?", (collection, key)
            )
        return cursor.rowcount > 0

    def items(self, collection: str, prefix: str = "") -> list[tuple[str, Doc]]:
        """(key, document) pairs of a collection whose key starts with prefix, ordered by key."""
        upper = prefix + "\U0010ffff"
        with self._lock:
            rows = self._db.execute(
                "SELECT key, doc FROM docs WHERE collection = ? AND key >= ? AND key < ? "
                "ORDER BY key",
                (collection, prefix, upper),
            ).fetchall()
        return [(key, dict(json.loads(text))) for key, text in rows]

    def collections(self) -> list[str]:
        """The names of the collections holding at least one document, sorted."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT collection FROM docs ORDER BY 1").fetchall()
        return [str(row[0]) for row in rows]

    def values(self, collection: str, prefix: str = "") -> list[Doc]:
        """Documents of a collection whose key starts with prefix, ordered by key."""
        return [doc for _, doc in self.items(collection, prefix)]

    def next_value(self, sequence: str) -> int:
        """The next integer of a named sequence (1, 2, 3, …), persisted."""
        with self._lock:
            self._db.execute(
                "INSERT INTO sequences (name, value) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (sequence,),
            )
            row = self._db.execute(
                "SELECT value FROM sequences WHERE name = ?", (sequence,)
            ).fetchone()
        return int(row[0])

    def reset(self) -> None:
        """Forget everything."""
        with self._lock:
            self._db.execute("DELETE FROM docs")
            self._db.execute("DELETE FROM sequences")

    def close(self) -> None:
        """Close the database; the store is unusable afterwards."""
        with self._lock:
            self._db.close()
