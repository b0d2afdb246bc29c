"""The reliability benchmark (bench/reliability.py) in its smallest configuration of one
scenario, so that it cannot rot: one run of dev under 10 % injected faults (429/500/503/504 and
a failed operation per creating method), counted as the benchmark counts it."""

from __future__ import annotations

from pathlib import Path

from bench.reliability import faults_scenario, markdown
from tests.reliability.writes import CleanRun


def test_the_benchmark_counts_a_run_under_faults(clean_dev: CleanRun, tmp_path: Path) -> None:
    result = faults_scenario(1, [0.1], clean_dev, tmp_path)

    (run,) = result.runs
    assert run["faults_served"] > 0, "no fault was injected"
    assert (result.tried, result.converged, result.duplicates) == (1, 1, 0), run
    assert (result.reruns, result.reruns_clean) == (1, 1), run
    assert run["rerun_writes"] == 0
    assert "injected faults: tried 1, converged 1, duplicates 0" in markdown([result], "test")
