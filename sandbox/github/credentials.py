"""Reading the token out of an Authorization header (never logged, never stored in clear)."""

from __future__ import annotations

import base64
import binascii


def token_from(header: str) -> str | None:
    """The token of `token X`, `Bearer X` or `Basic base64(user:X)`; None when absent."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() in ("token", "bearer"):
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None
