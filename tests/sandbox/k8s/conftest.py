"""Fixtures: a sandbox serving one cluster through the Connect Gateway, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.sandbox.k8s.kube_env import KubeEnv, running


@pytest.fixture
def kube(tmp_path: Path) -> Iterator[KubeEnv]:
    """A fresh sandbox (state under tmp_path) with the gateway and cluster ("123", "mlp-dev")."""
    with running(tmp_path) as env:
        yield env


@pytest.fixture
def core(kube: KubeEnv) -> client.CoreV1Api:
    """CoreV1Api as the sandbox administrator."""
    return client.CoreV1Api(kube.api())
