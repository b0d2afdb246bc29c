"""A benchmarked size run several times reports its median run and the range (bench.provision),
and its options are checked before anything starts."""

from __future__ import annotations

import subprocess
import sys

from bench.provision import ROOT, _ratio, median_run


def _run(ratio: float, wall: float) -> dict[str, object]:
    return {"size": "3 env × 20 teams", "wall_over_bound": ratio, "wall_s": wall}


def test_the_median_run_is_reported_with_every_ratio() -> None:
    runs = [_run(2.4, 53.6), _run(1.5, 46.6), _run(1.7, 49.7)]
    chosen = median_run(runs)
    assert chosen["wall_s"] == 49.7 and chosen["runs_wall_over_bound"] == [2.4, 1.5, 1.7]
    assert _ratio(chosen) == "1.7 (1.5–2.4)"


def test_one_run_is_itself() -> None:
    chosen = median_run([_run(1.3, 20.0)])
    assert chosen["wall_s"] == 20.0 and _ratio(chosen) == "1.3"


def test_an_upgrade_chance_out_of_range_is_refused_before_any_run() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.provision", "--auto-upgrade-chance", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--auto-upgrade-chance: '2' is not a number from 0 to 1" in done.stderr
    assert done.stdout == ""  # no size ran
