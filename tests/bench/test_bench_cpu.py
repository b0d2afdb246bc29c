"""The benchmark counts CPU seconds per process kind: itself (mlplat), the sandbox, Prefect."""

from __future__ import annotations

import subprocess
import sys
import time

from bench import cpu

_BURN = (
    "import sys, time\n"
    "end = time.process_time() + float(sys.argv[1])\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "time.sleep(30)\n"
)


def _burning(seconds: float, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _BURN, str(seconds), *args], stdout=subprocess.PIPE, text=True
    )


def test_cpu_seconds_are_counted_per_kind_of_process() -> None:
    before = cpu.snapshot()
    sandbox, prefect = _burning(0.6, "sandbox", "serve"), _burning(0.3, "server")
    try:
        for process in (sandbox, prefect):
            assert process.stdout is not None and process.stdout.readline().strip() == "done"
        end = time.process_time() + 0.2
        while time.process_time() < end:
            pass
        used = cpu.used(before, cpu.snapshot())
    finally:
        for process in (sandbox, prefect):
            process.kill()
            process.wait()
    # at least (other children of a test worker may add to them)
    assert used["sandbox"] >= 0.5 and used["prefect"] >= 0.2 and used["mlplat"] >= 0.2, used
