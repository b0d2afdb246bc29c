"""Small flows around an environment's lock, for the lock tests: one that takes it and holds it
until a file appears (optionally paused for approval meanwhile), one that only takes it. Run
on a thread, or in a child process: `python -m tests.flows.lock_holder ENV SPEC ENDPOINTS
RELEASE_FILE` (it prints HELD once it holds the lock), or `... take ENV[,ENV] SPEC ENDPOINTS`
(prints TOOK, the environment and the seconds taking its lock took)."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from prefect import flow

from flows._approval import request_approval
from flows._locks import environment_lock, lock_name
from mlplat.converge.context import EnvContext
from mlplat.specs import load_spec
from mlplat.target import sandbox_from_file


def context(env: str, spec_dir: str, dry_run: bool, endpoints: str) -> EnvContext:
    """As flows.provision_environment.context, without importing every task (a child process
    holding a lock starts in a few seconds instead of tens)."""
    target = sandbox_from_file(Path(endpoints))
    return EnvContext(spec=load_spec(Path(spec_dir)), env_name=env, target=target, dry_run=dry_run)


PLAN = {"rows": [{"resource": "gke/cluster x", "action": "update", "fields": "labels"}]}


@flow(name="hold-lock", flow_run_name="hold-lock[{env}]")
def hold_lock(
    env: str, spec_dir: str, endpoints: str, release_file: str, approval: bool = False
) -> bool:
    """Hold the environment's lock until `release_file` exists (at most 10 minutes); with
    `approval`, pause for approval while holding it and return the answer."""
    ctx = context(env, spec_dir, dry_run=False, endpoints=endpoints)
    with environment_lock(ctx):
        print("HELD", lock_name(ctx), flush=True)
        if approval:
            return bool(request_approval(env, PLAN, timeout=600).approve)
        deadline = time.monotonic() + 600
        while not Path(release_file).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    return True


@flow(name="take-lock", flow_run_name="take-lock[{env}]")
def take_lock(env: str, spec_dir: str, endpoints: str) -> float:
    """Take the environment's lock and give it back: the seconds that took."""
    ctx = context(env, spec_dir, dry_run=False, endpoints=endpoints)
    started = time.monotonic()
    with environment_lock(ctx):
        return time.monotonic() - started


class RunLogs(logging.Handler):
    """The lines that flow runs log in this process (Prefect's run logger)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str]] = []  # (flow run name, message)
        self._logger = logging.getLogger("prefect.flow_runs")

    def __enter__(self) -> RunLogs:
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((str(getattr(record, "flow_run_name", "")), record.getMessage()))

    def of(self, run: str) -> list[str]:
        return [line for name, line in self.lines if name == run]


if __name__ == "__main__":
    if sys.argv[1] == "take":  # take ENV[,ENV...] SPEC ENDPOINTS: one after the other
        for env in sys.argv[2].split(","):
            print("TOOK", env, take_lock(env, *sys.argv[3:5]), flush=True)
    else:
        hold_lock(*sys.argv[1:5])
