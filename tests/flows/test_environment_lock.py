"""One mutating run per environment: a run waits while another holds the environment."""

from __future__ import annotations

import threading
import time

from prefect.concurrency.sync import concurrency

from flows._locks import _ensure_limit, lock_name
from flows.provision_environment import provision_environment
from sandbox.cloud import Sandbox
from tests.flows.conftest import REFERENCE, writes


def test_second_run_waits_for_the_first(sandbox: Sandbox) -> None:
    name = lock_name("dev")
    _ensure_limit(name)
    results: list[dict] = []  # type: ignore[type-arg]
    with concurrency(name, occupy=1, strict=True):  # another run holds dev
        runner = threading.Thread(
            target=lambda: results.append(
                provision_environment(
                    "dev", spec_dir=str(REFERENCE), endpoints=str(sandbox.endpoints_path)
                )
            )
        )
        runner.start()
        time.sleep(4)
        assert runner.is_alive(), "the run did not wait for the environment"
        assert writes(sandbox) == {}, "nothing may be mutated while another run holds dev"
    runner.join(timeout=300)
    assert results and results[0]["counts"]["create"] >= 12
    assert writes(sandbox), "it ran once the environment was free"
