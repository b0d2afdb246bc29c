"""Fault soak (issue #8): provisioning runs under injected faults on every method of every API
(Google, Kubernetes through the Connect Gateway, GitHub): 429 with Retry-After, 500 and 503 at
up to 30 %, plus long-running operations that fail. Every run converges; afterwards the
platform, listed through every API, is exactly what a clean run on a fresh sandbox makes (no
duplicate, no orphan), and a fault-free re-run makes no write.

CI runs a small sample; `MLPLAT_RELIABILITY=full` runs ten seeds at 10–30 %, some of them over
every environment at once (provision_platform); `MLPLAT_SOAK_SEEDS=300-349` adds fifty more."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.flows.conftest import admin, writes
from tests.reliability.conftest import FULL
from tests.reliability.faults import FAILING_OPERATIONS, Soak, faults, provision
from tests.reliability.inventory import differences, inventory
from tests.reliability.writes import CleanRun, fresh_sandbox

SMALL = [Soak(101, 0.30)]
FULL_RUNS = [
    Soak(201, 0.10),
    Soak(202, 0.15),
    Soak(203, 0.20),
    Soak(204, 0.25),
    Soak(205, 0.30),
    Soak(206, 0.30),
    Soak(207, 0.30),
    Soak(208, 0.20, ("dev", "staging", "prod")),
    Soak(209, 0.30, ("dev", "staging", "prod")),
    Soak(210, 0.30, ("dev", "staging")),
]


def _extra() -> list[Soak]:
    """`MLPLAT_SOAK_SEEDS=FIRST-LAST`: one more 30 % run of dev per seed (a longer soak)."""
    given = os.environ.get("MLPLAT_SOAK_SEEDS", "")
    if not given:
        return []
    first, _, last = given.partition("-")
    return [Soak(seed, 0.30) for seed in range(int(first), int(last or first) + 1)]


RUNS = (FULL_RUNS if FULL else SMALL) + _extra()


@pytest.fixture(scope="module")
def clean(
    tmp_path_factory: pytest.TempPathFactory, clean_dev: CleanRun
) -> Callable[[tuple[str, ...]], Any]:
    """The inventory a fault-free run of `envs` leaves on a fresh sandbox (made once each)."""
    made: dict[tuple[str, ...], Any] = {("dev",): clean_dev.inventory}

    def of(envs: tuple[str, ...]) -> Any:
        if envs not in made:
            with fresh_sandbox(tmp_path_factory.mktemp("clean")) as sandbox:
                provision(sandbox, envs)
                made[envs] = inventory(sandbox)
        return made[envs]

    return of


@pytest.mark.parametrize("soak", RUNS, ids=str)
def test_converges_under_faults_without_duplicates(
    soak: Soak,
    clean: Callable[[tuple[str, ...]], Any],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    expected = clean(soak.envs)
    with fresh_sandbox(tmp_path / "sandbox") as sandbox:
        admin(sandbox, "PUT", "/faults", faults(soak))
        results = provision(sandbox, soak.envs)
        counters = admin(sandbox, "GET", "/counters")
        admin(sandbox, "PUT", "/faults", {"rules": []})

        errors = sum(m["errors"] for m in counters["methods"].values())
        assert errors >= soak.rate * counters["reads"] / 2, "the faults were not injected"
        for method in FAILING_OPERATIONS:  # each failed once, and the run started it again
            assert f"injected: {method} failed" in caplog.text, method
        for env, result in results.items():
            assert result["counts"]["create"] >= 12, (env, result["counts"])

        got = inventory(sandbox)
        assert got == expected, "\n".join(differences(got, expected))

        admin(sandbox, "POST", "/counters/reset")
        again = provision(sandbox, soak.envs)
        assert writes(sandbox) == {}
        for env, result in again.items():
            counts = result["counts"]
            assert counts["noop"] >= 12 and counts["create"] == counts["update"] == 0, (env, counts)
