"""Parsing Config Connector's recorded HTTP logs (`_http.log`) into exchanges."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_REQUEST = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (\S+)$")
_STATUS = re.compile(r"^(\d{3}) ")


@dataclass(frozen=True)
class Exchange:
    """One recorded request and Google's answer (bodies parsed; None when empty or not JSON)."""

    method: str
    url: str
    request: Any
    status: int
    answer: Any


def parse(text: str) -> list[Exchange]:
    """Every exchange of a log, in order; blocks that are not request/answer pairs are skipped."""
    exchanges = []
    for block in re.split(r"\n---\n", text):
        exchange = _exchange(block.strip("\n").splitlines())
        if exchange is not None:
            exchanges.append(exchange)
    return exchanges


def _exchange(lines: list[str]) -> Exchange | None:
    if not lines or (first := _REQUEST.match(lines[0])) is None:
        return None
    rest = _skip_headers(lines, 1)
    status_at = next(
        (i for i in range(rest, len(lines)) if _STATUS.match(lines[i]) and not lines[i - 1]),
        None,
    )
    if status_at is None:
        return None
    request_body = "\n".join(lines[rest:status_at]).strip()
    answer_at = _skip_headers(lines, status_at + 1)
    answer_body = "\n".join(lines[answer_at:]).strip()
    status = _STATUS.match(lines[status_at])
    assert status is not None
    return Exchange(
        method=first.group(1),
        url=first.group(2),
        request=_json(request_body),
        status=int(status.group(1)),
        answer=_json(answer_body),
    )


def _skip_headers(lines: list[str], start: int) -> int:
    """Index of the first line after the header block that starts at `start`."""
    i = start
    while i < len(lines) and lines[i].strip():
        i += 1
    return i + 1


def _json(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
