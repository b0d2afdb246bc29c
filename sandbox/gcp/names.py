"""The seed of every identifier, name and fingerprint the Google APIs make up: a hash of its
inputs, so the same inputs always yield the same one."""

from __future__ import annotations

import hashlib


def digest(*parts: object) -> str:
    """Hex SHA-256 of the parts joined by `/`."""
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()
