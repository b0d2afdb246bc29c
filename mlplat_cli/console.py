"""What a command that runs flows shows while they run: by default a progress view per
environment (a live table on a terminal, plain lines otherwise) and warnings once; with
`--verbose`, the full log as Prefect prints it. The flow runs' logs in Prefect are the same
either way.

Everything comes from the log records of this process (the flows run in a thread of it): a
handler on the root logger maps known records to `mlplat_cli.progress` events."""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from mlplat_cli import progress
from mlplat_cli.progress import Event

ENV_RUN = re.compile(r"^provision-environment\[(?P<env>[^\]]+)\]$")
RESOURCE_LINE = re.compile(
    r"^(?P<resource>[a-z][\w-]*(?:/[\w-]+)? \S+): (?P<action>create|update|noop|delete)\b"
)
FINISHED = re.compile(r"^Finished in state (?P<state>\w+)")
LOCK_WAIT = re.compile(r"^waiting for lock (?P<lock>\S+):")
LOCK_TAKEN = re.compile(r"^acquired (?P<lock>\S+) ")
# Expected answers that libraries report as warnings, e.g. googleapiclient's "Encountered 403
# Forbidden with reason accessNotConfigured" while a newly enabled API propagates (mlplat
# retries it: its own DEBUG line is counted) and urllib3 discarding a spare connection.
DEMOTED = {
    "googleapiclient.http": re.compile(r"^Encountered \d{3} "),
    "urllib3.connectionpool": re.compile(r"^Connection pool is full"),
}
# mlplat's own loggers: INFO lines go to Prefect (and the API); retries and waits at DEBUG.
LEVELS = {"mlplat": logging.INFO, "mlplat.retry": logging.DEBUG, "mlplat.wait": logging.DEBUG}
PLAIN_TICK = 1.0


def events_of(record: logging.LogRecord, env: str | None) -> list[Event]:
    """The progress events a log record stands for (`env`: the environment whose run
    logged it, if any)."""
    at = record.created
    if record.name == "mlplat.retry":
        return [progress.Transient(env, at)]
    if env is None:
        return []
    message = record.getMessage()
    if record.name == "mlplat.wait" and isinstance(record.args, tuple) and record.args:
        what = str(record.args[0])
        if record.msg == "%s: waiting" or record.msg.startswith("%s: waiting,"):
            return [progress.WaitStarted(env, at, what)]
        if record.msg.startswith("%s: waited"):
            return [progress.WaitEnded(env, at, what)]
        return []
    if record.name == "prefect.flow_runs" and not getattr(record, "task_run_name", None):
        if message.startswith("Beginning"):
            return [progress.RunStarted(env, at)]
        finished = FINISHED.match(message)
        if finished:
            return [progress.RunFinished(env, at, finished["state"])]
    if found := RESOURCE_LINE.match(message):
        return [progress.ResourceDone(env, at, found["resource"], found["action"])]
    if found := LOCK_WAIT.match(message):
        return [progress.WaitStarted(env, at, f"lock {found['lock']}")]
    if found := LOCK_TAKEN.match(message):
        return [progress.RunStarted(env, at), progress.WaitEnded(env, at, f"lock {found['lock']}")]
    if "requires approval:" in message:
        return [progress.WaitStarted(env, at, "approval (mlplat approve / the Prefect UI)")]
    if message.startswith(f"plan of {env} "):  # approved or rejected
        return [
            progress.WaitEnded(env, at, "approval (mlplat approve / the Prefect UI)"),
            progress.PlanAgain(env, at),
        ]
    return []


def env_of(record: logging.LogRecord) -> str | None:
    """The environment whose provision-environment run logged the record: the run's name is
    on Prefect's run loggers' records, and in the context of the thread for the others."""
    name = getattr(record, "flow_run_name", None)
    if name is None:
        from prefect.context import FlowRunContext  # noqa: PLC0415 - Prefect after its env

        context = FlowRunContext.get()
        name = context.flow_run.name if context is not None and context.flow_run else None
    found = ENV_RUN.match(str(name)) if name else None
    return found["env"] if found else None


class _Demote(logging.Filter):
    """Lower expected answers a library logs as warnings to DEBUG."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and self.pattern.match(record.getMessage()):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


class _Watch(logging.Handler):
    """Feeds every record to the progress model; when `shown` is given, also prints warnings
    and errors through it (each once, without tracebacks: those are in Prefect and under
    --verbose)."""

    def __init__(self, shown: Callable[[str], None] | None) -> None:
        super().__init__(logging.DEBUG)
        self.shown = shown
        self.model = progress.Progress()
        self.guard = threading.Lock()  # the model, read by the view's thread
        self.printed: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            env = env_of(record)
            events = events_of(record, env)
            with self.guard:
                for event in events:
                    self.model.apply(event)
            if self.shown is None or record.levelno < logging.WARNING:
                return
            message = record.getMessage()
            first = message.splitlines()[0] if message else ""
            line = f"{env}: {first}" if env else first
            if record.levelno >= logging.ERROR:
                line = f"error: {line}"
            with self.guard:
                if line in self.printed:
                    return
                self.printed.add(line)
            self.shown(line)
        except Exception:  # a console that cannot show something never stops a run
            self.handleError(record)


@dataclass
class Console:
    """The console while a command's flows run (see the module); a context manager."""

    verbose: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    interactive: bool | None = None  # default: whether `stream` is a terminal
    every: float = 15.0  # seconds between plain lines about the same wait
    totals: dict[str, int] = field(default_factory=dict)  # resources per env, last time

    def __post_init__(self) -> None:
        if self.interactive is None:
            self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._watch = _Watch(shown=None if self.verbose else self._print)
        for env, total in self.totals.items():
            self._watch.model.apply(progress.TotalKnown(env, total))
        self._plain = progress.PlainLines(every=self.every)
        self._live: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def model(self) -> progress.Progress:
        return self._watch.model

    def summary_lines(self) -> list[str]:
        with self._watch.guard:
            return progress.summary_lines(self.model)

    def _print(self, line: str) -> None:
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=self.stream, flush=True)

    def _tick_plain(self) -> None:
        while not self._stop.wait(PLAIN_TICK):
            self._print_plain()

    def _print_plain(self) -> None:
        with self._watch.guard:
            lines = self._plain.lines(self.model, time.time())
        for line in lines:
            self._print(line)

    def _table(self) -> Any:
        from rich.table import Table  # noqa: PLC0415 - only on a terminal

        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("environment", "phase", "resources", "waiting on", "elapsed"):
            table.add_column(column, no_wrap=column != "waiting on")
        with self._watch.guard:
            rows = progress.table_rows(self.model, time.time())
        for row in rows:
            table.add_row(*row)
        return table

    def __enter__(self) -> Console:
        self._restore = _install(self._watch, keep_prefect_console=self.verbose)
        if self.verbose:
            return self
        if self.interactive:
            from rich.console import Console as Terminal  # noqa: PLC0415
            from rich.live import Live  # noqa: PLC0415

            self._live = Live(
                get_renderable=self._table,
                console=Terminal(file=self.stream),
                refresh_per_second=4,
                transient=True,
            )
            self._live.start()
        else:
            self._ticker = threading.Thread(target=self._tick_plain, name="mlplat-progress")
            self._ticker.daemon = True
            self._ticker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._live is not None:
            self._live.stop()
            self._live = None
        self._restore()


def _install(watch: _Watch, *, keep_prefect_console: bool) -> Callable[[], None]:
    """Put the handler on the root logger, set mlplat's levels, demote expected library
    warnings and (unless kept) take Prefect's console handler off; returns the undo."""
    from prefect.logging.handlers import PrefectConsoleHandler  # noqa: PLC0415

    root = logging.getLogger()
    removed = [h for h in root.handlers if isinstance(h, PrefectConsoleHandler)]
    if keep_prefect_console:
        removed = []
    for handler in removed:
        root.removeHandler(handler)
    root.addHandler(watch)
    undo_levels = set_levels()

    def undo() -> None:
        root.removeHandler(watch)
        for handler in removed:
            root.addHandler(handler)
        undo_levels()

    return undo


def set_levels() -> Callable[[], None]:
    """mlplat's loggers at their levels and the expected library warnings demoted to DEBUG;
    returns the undo."""
    levels = {name: logging.getLogger(name).level for name in LEVELS}
    for name, level in LEVELS.items():
        logging.getLogger(name).setLevel(level)
    added = []
    for name, pattern in DEMOTED.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Demote) for f in logger.filters):
            demote = _Demote(pattern)
            logger.addFilter(demote)
            added.append((logger, demote))

    def undo() -> None:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        for logger, demote in added:
            logger.removeFilter(demote)

    return undo


def quiet_prefect_console() -> None:
    """For commands without a progress view: mlplat's levels, the library warnings demoted,
    and Prefect's console (which prints every other line, once) at INFO."""
    from prefect.logging.handlers import PrefectConsoleHandler  # noqa: PLC0415

    set_levels()
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.setLevel(logging.INFO)
