"""Secrets for tasks, fetched at run time inside the task: never passed as parameters (Prefect
stores those), never logged."""

from __future__ import annotations

import os
from typing import cast

from prefect.blocks.system import Secret

from mlplat.errors import PermanentError

TOKEN_ENV = "GITHUB_TOKEN"


def github_token(block_name: str) -> str:
    """$GITHUB_TOKEN when set, else the Prefect Secret block `block_name`."""
    token = os.environ.get(TOKEN_ENV)
    if token:
        return token
    try:
        block = cast(Secret[str], Secret.load(block_name))  # sync call from a sync task
        value = block.get()
    except ValueError:
        value = None
    if not value:
        raise PermanentError(
            f"no GitHub token: set {TOKEN_ENV}, or create the Prefect Secret block "
            f"{block_name!r} (prefect block create secret)"
        )
    return str(value)
