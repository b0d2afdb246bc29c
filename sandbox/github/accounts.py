"""Users, organizations and tokens in the sandbox store, and what a user may do to a repository.

Tokens are stored as SHA-256 digests only. Permissions, simplest that serves the tool:
a site admin (`admin=True`) administers every repository; a user administers their own;
an organization's members can write its repositories; anyone authenticated reads public ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.store import Store

USERS = "github.users"
ORGS = "github.orgs"
TOKENS = "github.tokens"
IDS = "github.ids"
LEVELS = ("read", "write", "admin")


@dataclass(frozen=True)
class Account:
    """An authenticated user."""

    login: str
    id: int
    site_admin: bool
    orgs: tuple[str, ...]
    name: str
    email: str
    created: float


@dataclass(frozen=True)
class SeedUser:
    """A user created at every start (idempotently), with its token."""

    login: str
    token: str
    orgs: tuple[str, ...] = ()
    admin: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(doc: dict[str, Any]) -> Account:
    return Account(
        login=doc["login"],
        id=int(doc["id"]),
        site_admin=bool(doc.get("admin")),
        orgs=tuple(doc.get("orgs", [])),
        name=doc.get("name") or doc["login"],
        email=doc.get("email") or f"{doc['login']}@users.noreply.sandbox.github",
        created=float(doc.get("created", 0.0)),
    )


def create_org(store: Store, login: str, now: float) -> dict[str, Any]:
    """Create an organization if it does not exist; returns its document."""
    with store.transaction():
        doc = store.get(ORGS, login.lower())
        if doc is None:
            if store.get(USERS, login.lower()) is not None:
                raise ValueError(f"{login} is already a user")
            doc = {"login": login, "id": store.next_value(IDS), "created": now}
            store.put(ORGS, login.lower(), doc)
        return doc


def create_user(
    store: Store, login: str, token: str, *, orgs: Sequence[str], admin: bool, now: float
) -> Account:
    """Create or update a user (orgs are created as needed) and register its token."""
    with store.transaction():
        if store.get(ORGS, login.lower()) is not None:
            raise ValueError(f"{login} is already an organization")
        for org in orgs:
            create_org(store, org, now)
        doc = store.get(USERS, login.lower()) or {
            "login": login,
            "id": store.next_value(IDS),
            "created": now,
        }
        doc["orgs"] = sorted({*doc.get("orgs", []), *(org.lower() for org in orgs)})
        doc["admin"] = bool(admin)
        store.put(USERS, login.lower(), doc)
        store.put(TOKENS, _digest(token), {"login": login.lower()})
        return _account(doc)


def user_for_token(store: Store, token: str) -> Account | None:
    """The user a token belongs to, or None."""
    entry = store.get(TOKENS, _digest(token))
    return None if entry is None else get_user(store, entry["login"])


def get_user(store: Store, login: str) -> Account | None:
    """A user by login (case-insensitive)."""
    doc = store.get(USERS, login.lower())
    return None if doc is None else _account(doc)


def get_org(store: Store, login: str) -> dict[str, Any] | None:
    """An organization document by login (case-insensitive)."""
    return store.get(ORGS, login.lower())


def permission(user: Account, repo: dict[str, Any]) -> str | None:
    """`admin`, `write`, `read` or None (cannot see the repository)."""
    owner = str(repo["owner"]).lower()
    if user.site_admin or owner == user.login.lower():
        return "admin"
    if repo.get("owner_type") == "Organization" and owner in user.orgs:
        return "write"
    return None if repo.get("private") else "read"


def allows(granted: str | None, needed: str) -> bool:
    """True when a granted level covers the needed one."""
    return granted is not None and LEVELS.index(granted) >= LEVELS.index(needed)
