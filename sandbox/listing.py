"""List helpers shared by the APIs: page tokens and the `locations/-` wildcard."""

from __future__ import annotations

import base64
from typing import Any, TypeVar

from sandbox.errors import invalid_argument

T = TypeVar("T")
WILDCARD = "-"


def location_matches(requested: str, actual: str) -> bool:
    """True when `actual` is the requested location, or the request says `-` (all)."""
    return requested in (WILDCARD, actual)


def paginate(
    items: list[T], page_size: int | None, page_token: str | None, default_size: int = 500
) -> tuple[list[T], str]:
    """One page of items and the next page token ("" on the last page)."""
    size = default_size if not page_size or page_size <= 0 else min(page_size, default_size)
    start = 0
    if page_token:
        try:
            start = int(base64.urlsafe_b64decode(page_token.encode()).decode())
        except ValueError:
            raise invalid_argument("Invalid page token.", "page_token") from None
    end = start + size
    token = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else ""
    return items[start:end], token


def page(
    call_query: dict[str, Any],
    items: list[T],
    *,
    size_param: str = "pageSize",
    default_size: int = 500,
) -> tuple[list[T], str]:
    """`paginate` with the page size and token read from a call's query parameters."""
    return paginate(
        items, call_query.get(size_param), call_query.get("pageToken"), default_size=default_size
    )
