"""What `mlplat up` prints where its output is not a terminal (CI, a pipe): plain progress
lines per environment while it works, each console line once, a converged run's summary and
little else, the wall time per environment at the end; `--verbose` prints the runs' log."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.e2e.conftest import run_mlplat

ENVS = ("dev", "staging")
CONVERGED_MOST = 20  # lines, stdout and stderr together


def _up(env: dict[str, str], *extra: str) -> tuple[str, str]:
    args = [word for name in ENVS for word in ("--env", name)]
    done = run_mlplat(env, "up", *args, *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, done.stderr


def _repeated(output: str) -> list[str]:
    """Lines printed more than once, except blank lines and the summary's rows of changes
    (`    create  k8s/secret vision/git-creds` is the same line under two environments)."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("    ")]
    return [line for line, count in Counter(lines).items() if count > 1]


@pytest.mark.timeout(1500)
def test_up_shows_progress_per_environment_once_and_a_short_converged_summary(
    user_env: dict[str, str],
) -> None:
    # Realistic latency: new APIs propagate (expected 403s, retried) and the cluster takes time.
    out, err = _up(user_env, "--latency", "realistic", "--time-scale", "60")
    progress = [line for line in err.splitlines() if re.match(r"^(dev|staging): ", line)]
    for name in ENVS:
        phases = [line for line in progress if line.startswith(f"{name}: ")]
        assert any(" — " in line and "changed" in line for line in phases), err[-3000:]
    assert "Task run '" not in err and "Finished in state" not in err, "no Prefect log lines"
    assert "Encountered 403" not in err and " retry " not in err, err[-3000:]
    assert _repeated(out + err) == [], out + err
    assert re.search(r"^\d+ transient answers? retried \(", out, re.MULTILINE), out
    assert re.search(r"\nWall time: dev \d.*, staging \d[^\n]*\n$", out), out[-500:]

    out, err = _up(user_env)
    lines = (out + err).splitlines()
    assert len(lines) <= CONVERGED_MOST, out + err
    assert re.search(r"^  dev: \d+ noop$", out, re.MULTILINE), out
    assert _repeated(out + err) == [], out + err
    assert out.splitlines()[-1].startswith("Wall time: dev "), out

    out, err = _up(user_env, "--verbose")
    assert "Finished in state Completed()" in err, err[-3000:]  # Prefect's log, as it prints it
    assert "| mlplat   |" not in err, "mlplat's lines come once, through Prefect's console"
    assert out.splitlines()[-1].startswith("Wall time: dev "), out
