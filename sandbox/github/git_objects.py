"""Git object formats (pure): trees and commits as git stores them, people and their dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

TREE_MODE = "40000"  # how git writes a tree mode inside tree objects
MODES = {"100644": "blob", "100755": "blob", "120000": "blob", "40000": "tree", "160000": "commit"}


@dataclass(frozen=True)
class Person:
    """An author or committer line: name, email, seconds since the epoch, offset `+0100`."""

    name: str
    email: str
    when: int
    tz: str = "+0000"

    def line(self) -> str:
        """The form inside a commit object."""
        return f"{self.name} <{self.email}> {self.when} {self.tz}"

    def iso(self) -> str:
        """GitHub's date form (`2024-05-01T12:00:00Z`, or with the author's offset)."""
        sign = -1 if self.tz.startswith("-") else 1
        offset = timedelta(hours=int(self.tz[1:3]), minutes=int(self.tz[3:5])) * sign
        stamp = datetime.fromtimestamp(self.when, timezone(offset))
        if not offset:
            return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        return stamp.isoformat(timespec="seconds")


def parse_person(line: str) -> Person:
    """Parse `Name <email> 1700000000 +0000`."""
    head, _, rest = line.rpartition(">")
    name, _, email = head.partition("<")
    parts = rest.split()
    when = int(parts[0]) if parts else 0
    tz = parts[1] if len(parts) > 1 else "+0000"
    return Person(name.strip(), email.strip(), when, tz)


def person_at(name: str, email: str, date: str | None, now: float) -> Person:
    """A person from API input: an ISO 8601 date (with `Z` or an offset) or now."""
    if not date:
        return Person(name, email, int(now))
    stamp = datetime.fromisoformat(date.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    offset = stamp.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    tz = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
    return Person(name, email, int(stamp.timestamp()), tz)


@dataclass(frozen=True)
class CommitData:
    """A parsed commit object."""

    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


def format_commit(commit: CommitData) -> bytes:
    """The body of a commit object."""
    lines = [f"tree {commit.tree}"]
    lines += [f"parent {parent}" for parent in commit.parents]
    lines += [f"author {commit.author.line()}", f"committer {commit.committer.line()}"]
    message = commit.message if commit.message.endswith("\n") else commit.message + "\n"
    return ("\n".join(lines) + "\n\n" + message).encode()


def parse_commit(body: bytes) -> CommitData:
    """Parse the body of a commit object (signatures and other headers are skipped)."""
    text = body.decode("utf-8", errors="replace")
    head, _, message = text.partition("\n\n")
    fields: dict[str, list[str]] = {}
    for line in head.split("\n"):
        if line.startswith(" "):  # continuation of a multi-line header (gpgsig)
            continue
        key, _, value = line.partition(" ")
        fields.setdefault(key, []).append(value)
    return CommitData(
        tree=fields["tree"][0],
        parents=tuple(fields.get("parent", [])),
        author=parse_person(fields["author"][0]),
        committer=parse_person(fields["committer"][0]),
        message=message,
    )


@dataclass(frozen=True)
class TreeEntry:
    """One entry of a tree object."""

    name: str
    mode: str  # as git stores it: 100644, 100755, 120000, 40000, 160000
    sha: str

    @property
    def kind(self) -> str:
        """blob, tree or commit."""
        return MODES.get(self.mode, "blob")


def parse_tree(body: bytes) -> dict[str, TreeEntry]:
    """Entries of a tree object by name."""
    entries: dict[str, TreeEntry] = {}
    pos = 0
    while pos < len(body):
        space = body.index(b" ", pos)
        nul = body.index(b"\0", space)
        name = body[space + 1 : nul].decode("utf-8", errors="surrogateescape")
        sha = body[nul + 1 : nul + 21].hex()
        entries[name] = TreeEntry(name, body[pos:space].decode(), sha)
        pos = nul + 21
    return entries


def format_tree(entries: dict[str, TreeEntry]) -> bytes:
    """The body of a tree object, entries in git's order (trees sort as `name/`)."""

    def order(entry: TreeEntry) -> bytes:
        name = entry.name.encode("utf-8", errors="surrogateescape")
        return name + b"/" if entry.mode == TREE_MODE else name

    out = bytearray()
    for entry in sorted(entries.values(), key=order):
        name = entry.name.encode("utf-8", errors="surrogateescape")
        out += f"{entry.mode} ".encode() + name + b"\0" + bytes.fromhex(entry.sha)
    return bytes(out)


def api_mode(mode: str) -> str:
    """GitHub's form of a mode (trees are `040000`)."""
    return "040000" if mode == TREE_MODE else mode


def git_mode(mode: str) -> str:
    """The stored form of an API mode."""
    return TREE_MODE if mode in ("040000", "40000") else mode
