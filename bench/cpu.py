"""CPU seconds used by the benchmark's processes: this one (mlplat and Prefect's client) and its
children, the sandbox and the temporary Prefect server, read from /proc. On a shared 2-core
machine the wall time alone cannot tell a slower mlplat from a busier machine."""

from __future__ import annotations

import os
import resource
from pathlib import Path

_TICK = float(os.sysconf("SC_CLK_TCK"))
KINDS = ("mlplat", "prefect", "sandbox")


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    return found


def _kind(pid: int) -> str:
    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return "sandbox" if b"sandbox" in command and b"serve" in command else "prefect"


def snapshot() -> dict[str, float]:
    """CPU seconds (user + system) so far: this process, and its running children by kind
    (with what their own finished children used)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    seconds = dict.fromkeys(KINDS, 0.0)
    seconds["mlplat"] = usage.ru_utime + usage.ru_stime
    for child in _children(os.getpid()):
        try:
            fields = _stat(child)
            kind = _kind(child)
        except OSError:
            continue
        # utime, stime, cutime, cstime: the 14th to 17th fields of /proc/PID/stat
        seconds[kind] += sum(int(x) for x in fields[11:15]) / _TICK
    return seconds


def used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds per kind between two snapshots (of the same processes)."""
    return {kind: round(after[kind] - before[kind], 1) for kind in KINDS}
