"""The Ray gate waits on KubeRay's conditions, not on `state`: a RayCluster whose head pod was
replaced keeps `state: ready` (KubeRay never takes it back, kuberay#2188) while the new head
pod runs but is not Ready; the gate waits through that window and passes once HeadPodReady is
True."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest
from kubernetes import client

from flows.provision_environment import context
from mlplat.converge.context import Outcome
from mlplat.converge.teams import wait_for_ray
from sandbox.cloud import Sandbox
from sandbox.controllers import Controllers
from tests.flows.conftest import REFERENCE
from tests.flows.platform_clients import kube

WINDOW = 3600.0  # sandbox seconds the new head pod runs before it is Ready


def _status(custom: client.CustomObjectsApi) -> dict[str, Any]:
    found = custom.get_namespaced_custom_object(
        "ray.io", "v1", "vision", "rayclusters", "vision-ray"
    )
    return dict(found.get("status") or {})


def _head_ready(status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in status.get("conditions") or [] if c["type"] == "HeadPodReady")


@pytest.mark.provisioned
def test_the_gate_waits_while_ready_but_the_head_pod_is_not(sandbox: Sandbox) -> None:
    endpoints = str(sandbox.endpoints_path)
    api = kube(sandbox, "dev")
    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    controllers = sandbox.component("controllers")
    assert isinstance(controllers, Controllers)
    controllers.settings = replace(controllers.settings, readiness_seconds=WINDOW)
    controllers.run_once()  # a pass begun with the former settings is over
    try:
        old = _status(custom)["head"]["podName"]
        core.delete_namespaced_pod(old, "vision")  # its node went away
        deadline = time.monotonic() + 20
        while True:
            status = _status(custom)
            replaced = status.get("head", {}).get("podName") not in (None, old)
            if replaced and _head_ready(status)["reason"] == "ContainersNotReady":
                break
            assert time.monotonic() < deadline, f"no window: {status}"
            time.sleep(0.05)
        assert status["state"] == "ready" and _head_ready(status)["status"] == "False"

        ctx = context("dev", str(REFERENCE), False, endpoints)
        member = next(t for t in ctx.spec.teams_in("dev") if t.name == "vision")
        outcomes: list[Outcome] = []
        gate = threading.Thread(target=lambda: outcomes.append(wait_for_ray(ctx, member)))
        gate.start()
        gate.join(timeout=3)
        assert gate.is_alive(), "the gate passed on `state: ready` alone"
        assert _status(custom)["state"] == "ready"

        sandbox.rt.advance(WINDOW)  # the head pod turns Ready
        gate.join(timeout=20)
        assert not gate.is_alive() and outcomes
        assert outcomes[0].detail.startswith("ready at ")
        assert _head_ready(_status(custom))["status"] == "True"
    finally:
        controllers.settings = replace(controllers.settings, readiness_seconds=None)
