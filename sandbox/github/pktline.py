"""The pkt-line side of a push (pure): the ref updates a client asks for, and a refusal report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

FLUSH = b"0000"
ZERO = "0" * 40
_MAX_BAND = {"side-band-64k": 65515, "side-band": 995}


def pkt(data: bytes) -> bytes:
    """One pkt-line."""
    return f"{len(data) + 4:04x}".encode() + data


@dataclass(frozen=True)
class Command:
    """A ref update of a push: old None creates, new None deletes."""

    old: str | None
    new: str | None
    ref: str


@dataclass(frozen=True)
class PushRequest:
    """What precedes the pack in a receive-pack request."""

    commands: tuple[Command, ...]
    capabilities: frozenset[str]
    pack_offset: int  # where the pack data starts in the body


def _lines(body: bytes, pos: int) -> tuple[list[bytes], int]:
    """pkt-lines from pos up to a flush-pkt; returns them and the offset after the flush."""
    lines: list[bytes] = []
    while pos + 4 <= len(body):
        length = int(body[pos : pos + 4], 16)
        if length == 0:
            return lines, pos + 4
        lines.append(body[pos + 4 : pos + length])
        pos += length
    raise ValueError("truncated pkt-line stream")


def parse_push(body: bytes) -> PushRequest:
    """Parse the commands (and push options) of a receive-pack request; ValueError if malformed."""
    lines, pos = _lines(body, 0)
    commands, capabilities = [], frozenset[str]()
    for raw in lines:
        line, _, caps = raw.rstrip(b"\n").partition(b"\0")
        if caps:
            capabilities = frozenset(caps.decode().split())
        if line.startswith(b"shallow "):
            continue
        old, new, ref = line.decode().split(" ", 2)
        commands.append(Command(None if old == ZERO else old, None if new == ZERO else new, ref))
    if "push-options" in capabilities:
        _, pos = _lines(body, pos)
    return PushRequest(tuple(commands), capabilities, pos)


def refusal(push: PushRequest, reasons: dict[str, str], messages: Sequence[str]) -> bytes:
    """A receive-pack answer refusing every command, with messages shown as `remote: …`.

    Like a declined pre-receive hook, nothing of the push is applied; refs without a reason of
    their own carry the first reason given.
    """
    default = next(iter(reasons.values()), "declined")
    report = pkt(b"unpack ok\n")
    for command in push.commands:
        report += pkt(f"ng {command.ref} {reasons.get(command.ref, default)}\n".encode())
    report += FLUSH
    if not {"report-status", "report-status-v2"} & push.capabilities:
        report = b""
    band = next((_MAX_BAND[c] for c in _MAX_BAND if c in push.capabilities), 0)
    if not band:
        return report
    out = b"".join(pkt(b"\x02" + message.encode()) for message in messages)
    for start in range(0, len(report), band):
        out += pkt(b"\x01" + report[start : start + band])
    return out + FLUSH
