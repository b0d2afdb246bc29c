"""Converge walks run directly, without Prefect: an in-process sandbox, the reference spec,
and an environment context on that sandbox."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from mlplat.converge.context import EnvContext
from mlplat.specs import load_spec
from mlplat.target import Target
from sandbox.cloud import Sandbox
from tests.adapters.conftest import sandbox, target
from tests.unit.spec_files import REFERENCE


@pytest.fixture
def ctx(target: Target) -> EnvContext:
    """The reference spec's dev environment on the sandbox (applying)."""
    return EnvContext(load_spec(REFERENCE), "dev", target)


__all__ = ["ctx", "sandbox", "target", "writes"]  # the adapters' sandbox fixtures, reused


def writes(sandbox: Sandbox) -> dict[str, int]:
    """Mutating calls per API method since the sandbox started."""
    with urllib.request.urlopen(sandbox.admin_url + "/counters", timeout=10) as response:
        methods: dict[str, Any] = json.load(response)["methods"]
    return {name: m["writes"] for name, m in methods.items() if m.get("writes")}
