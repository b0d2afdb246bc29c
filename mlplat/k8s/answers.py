"""Kubernetes answers checked before mlplat reads them.

The dynamic client hands back the body text when an answer is not JSON (a cut-short body), and
wraps any JSON it gets, whatever its shape. Read that way, a corrupted answer would surface as
an AttributeError deep in mlplat, or as an object without its labels or conditions. So every
object is checked for the JSON types Kubernetes guarantees (`mlplat.k8s.shapes`; a list's
`items` a list of objects) and for the states mlplat decides on: condition statuses (`True`,
`False`, `Unknown`) and the states of the custom resources it waits on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlplat.errors import TRUNCATED, UNKNOWN_ENUM, WRONG_TYPE, described, malformed
from mlplat.k8s import shapes

CONDITION_STATUSES = ("True", "False", "Unknown")
# status.state of the custom resources mlplat waits on: KubeRay's ClusterState ("" while new)
STATES = {"RayCluster": ("", "ready", "failed", "suspended", "unhealthy")}

Problem = tuple[str, str]


def object_of(what: str, found: Any, *, idempotent: bool) -> dict[str, Any]:
    """The answer as a dict, once it has the shape of a Kubernetes object; else our error."""
    value = _parsed(what, found, idempotent=idempotent)
    _raise(what, object_problems(value, ""))
    return value


def items_of(what: str, found: Any) -> list[dict[str, Any]]:
    """The objects of a list answer, once each has the shape of a Kubernetes object."""
    value = _parsed(what, found, idempotent=True)
    items = value.get("items")
    if not isinstance(items, list):
        _raise(what, [(WRONG_TYPE, f"items: expected a list, got {described(items)}")])
        return []  # unreachable: _raise raised
    problems: list[Problem] = []
    if not isinstance(value.get("metadata", {}), dict):
        got = described(value.get("metadata"))
        problems.append((WRONG_TYPE, f"metadata: expected an object, got {got}"))
    for index, item in enumerate(items):
        problems += object_problems(item, f"items[{index}]")
    _raise(what, problems)
    return list(items)


@contextmanager
def listing(what: str) -> Iterator[None]:
    """Around a list call: the dynamic client reshapes a list answer while it parses it (it
    sets each item's apiVersion), so `items` of the wrong type fails inside the client."""
    try:
        yield
    except (TypeError, AttributeError) as exc:
        detail = f"items: the client could not read them ({type(exc).__name__}: {exc})"
        raise malformed(what, WRONG_TYPE, detail, idempotent=False) from exc


def _parsed(what: str, found: Any, *, idempotent: bool) -> dict[str, Any]:
    if isinstance(found, str | bytes):  # the body text: it was not JSON
        try:
            json.loads(found)
            detail = "the body is not a JSON object"
        except ValueError as exc:
            detail = str(exc)
        raise malformed(what, TRUNCATED, detail, idempotent=idempotent)
    value = found.to_dict() if hasattr(found, "to_dict") else found
    if not isinstance(value, dict):
        _raise(what, [(WRONG_TYPE, f"the answer: expected an object, got {described(value)}")])
    result: dict[str, Any] = value
    return result


def object_problems(obj: Any, where: str) -> list[Problem]:
    """What in `obj` does not have the shape of a Kubernetes object (`where` prefixes paths)."""
    if not isinstance(obj, dict):
        return [(WRONG_TYPE, f"{where or 'the answer'}: expected an object, got {described(obj)}")]
    problems = [(WRONG_TYPE, detail) for detail in shapes.type_problems(obj, where)]
    if isinstance(obj.get("status"), dict):
        prefix = f"{where}." if where else ""
        problems += _status_problems(obj["status"], str(obj.get("kind", "")), f"{prefix}status")
    return problems


def _status_problems(status: dict[str, Any], kind: str, where: str) -> list[Problem]:
    problems: list[Problem] = []
    conditions = status.get("conditions")
    if conditions is not None and not isinstance(conditions, list):
        problems.append(
            (WRONG_TYPE, f"{where}.conditions: expected a list, got {described(conditions)}")
        )
    for index, condition in enumerate(conditions if isinstance(conditions, list) else []):
        at = f"{where}.conditions[{index}]"
        if not isinstance(condition, dict):
            problems.append((WRONG_TYPE, f"{at}: expected an object, got {described(condition)}"))
        elif not isinstance(condition.get("status"), str):
            got = described(condition.get("status"))
            problems.append((WRONG_TYPE, f"{at}.status: expected a string, got {got}"))
        elif condition["status"] not in CONDITION_STATUSES:
            known = ", ".join(CONDITION_STATUSES)
            problems.append(
                (UNKNOWN_ENUM, f"{at}.status: {condition['status']!r} is none of {known}")
            )
    if kind in STATES and "state" in status:
        state = status["state"]
        if not isinstance(state, str):
            problems.append(
                (WRONG_TYPE, f"{where}.state: expected a string, got {described(state)}")
            )
        elif state not in STATES[kind]:
            known = ", ".join(s for s in STATES[kind] if s)
            problems.append((UNKNOWN_ENUM, f"{where}.state: {state!r} is none of {known}"))
    return problems


def _raise(what: str, problems: list[Problem]) -> None:
    if not problems:
        return
    problem = WRONG_TYPE if any(p == WRONG_TYPE for p, _ in problems) else UNKNOWN_ENUM
    details = [detail for p, detail in problems if p == problem]
    shown = "; ".join(details[:3]) + (f" (+{len(details) - 3} more)" if len(details) > 3 else "")
    raise malformed(what, problem, shown, idempotent=False)  # not a cut-short body
