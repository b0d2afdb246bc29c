"""prefect.yaml: every deployment's entrypoint is a flow, and its parameters are the flow's."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


@pytest.mark.parametrize(
    "deployment", DEPLOYMENTS, ids=[f"{d['entrypoint']}:{d['name']}" for d in DEPLOYMENTS]
)
def test_deployment_entrypoint_is_a_flow_with_those_parameters(
    deployment: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    flow = load_flow_from_entrypoint(str(deployment["entrypoint"]))
    accepted = inspect.signature(flow.fn).parameters
    given = dict(deployment.get("parameters") or {})  # type: ignore[call-overload]
    assert set(given) <= set(accepted), f"unknown parameters {set(given) - set(accepted)}"
    assert deployment.get("work_pool"), "every deployment names the work pool"
