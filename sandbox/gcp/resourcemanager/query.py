"""Project search queries (v3 `projects.search`) and list filters (v1 `projects.list`).

Supported: terms `field:value` or `field=value` joined by spaces (AND) or `OR`; fields `id`,
`projectId`, `name`/`displayName`, `parent` (`folders/1`), `parent.type`, `parent.id`,
`state`/`lifecycleState`, `labels.KEY` (`:*` or bare = has the label), `labels.KEY:VALUE`;
quoted values; a trailing `*` matches a prefix; parentheses are ignored (no nesting).
Matching is case-insensitive, as Google's.
"""

from __future__ import annotations

import fnmatch
import shlex
from typing import Any

from sandbox.errors import invalid_argument

Term = tuple[str, str | None]


def parse(query: str) -> list[list[Term]]:
    """Disjunction of conjunctions of (field, value) terms; value None means "present"."""
    try:
        tokens = shlex.split(query)
    except ValueError as exc:
        raise invalid_argument(f"Invalid query: {exc}", "query") from None
    groups: list[list[Term]] = [[]]
    for raw in tokens:
        token = raw.strip("()")  # gcloud wraps its filters in parentheses
        if not token:
            continue
        if token.upper() == "OR":
            groups.append([])
            continue
        if token.upper() == "AND":
            continue
        field, sep, value = _split(token)
        if not sep:
            if field.startswith("labels."):
                groups[-1].append((field, None))
                continue
            raise invalid_argument(f"Invalid query term '{token}'.", "query")
        groups[-1].append((field, None if value == "*" else value))
    return [group for group in groups if group] or [[]]


def _split(token: str) -> tuple[str, str, str]:
    positions = [p for p in (token.find(":"), token.find("=")) if p >= 0]
    if not positions:
        return token, "", ""
    at = min(positions)
    return token[:at], token[at], token[at + 1 :]


def matches(project: dict[str, Any], query: list[list[Term]]) -> bool:
    """True when the (v3-shaped) project satisfies the parsed query."""
    return any(all(_term(project, term) for term in group) for group in query)


def _term(project: dict[str, Any], term: Term) -> bool:
    field, wanted = term
    parent = str(project.get("parent", ""))
    parent_type, _, parent_id = parent.partition("/")
    labels: dict[str, str] = project.get("labels", {})
    if field.startswith("labels."):
        key = field.removeprefix("labels.")
        if key not in labels:
            return False
        return wanted is None or _like(labels[key], wanted)
    if wanted is None:
        return True
    values = {
        "id": project["projectId"],
        "projectid": project["projectId"],
        "name": project.get("displayName", ""),
        "displayname": project.get("displayName", ""),
        "parent": parent,
        "parent.type": parent_type.removesuffix("s"),
        "parent.id": parent_id,
        "state": project["state"],
        "lifecyclestate": project["state"],
        "projectnumber": project["name"].removeprefix("projects/"),
    }
    key = field.lower()
    if key not in values:
        raise invalid_argument(f"Unsupported query field '{field}'.", "query")
    return _like(str(values[key]), wanted)


def _like(actual: str, wanted: str) -> bool:
    return fnmatch.fnmatchcase(actual.lower(), wanted.lower())


def mentions_state(query: list[list[Term]]) -> bool:
    """True when the query filters on the lifecycle state itself."""
    return any(
        field.lower() in ("state", "lifecyclestate") for group in query for field, _ in group
    )
