"""Print the conformance table: per API, exchanges replayed, status match and field coverage.

    python -m tests.conformance.report [--missing N]

Replays tests/conformance/data against a fresh sandbox in a temporary directory.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from tests.conformance import replay

STATUS_TARGET = 99.0
COVERAGE_TARGET = 95.0


def table(rows: dict[str, replay.Row]) -> str:
    """The Markdown table of the figures."""
    lines = [
        "| API | exchanges replayed (from recordings that differ from KCC's mock) "
        "| not counted | status match | field coverage | targets |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in rows.items():
        met = row.status_pct >= STATUS_TARGET and row.coverage_pct >= COVERAGE_TARGET
        lines.append(
            f"| {name} | {row.exchanges} ({row.from_google}) | {row.excluded} "
            f"| {row.status_pct:.1f} % "
            f"| {row.coverage_pct:.1f} % ({row.fields_present}/{row.fields}) "
            f"| {'met' if met else 'not met'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", type=int, default=0, help="list the N most missed fields")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        results = replay.run(Path(state))
    rows = replay.summarize(results)
    print(table(rows))
    reasons = Counter(r.excluded for r in results if r.excluded)
    for reason, count in reasons.items():
        print(f"\nnot counted ({count}): {reason}")
    if args.missing:
        for name, row in rows.items():
            if row.missing:
                top = ", ".join(f"`{f}` ({n})" for f, n in row.missing.most_common(args.missing))
                print(f"\n{name}: {top}")
            for result in row.mismatches[: args.missing]:
                print(
                    f"  {result.fixture}#{result.index} {result.request}: "
                    f"{result.recorded_status} → {result.sandbox_status} {result.sandbox_message}"
                )


if __name__ == "__main__":
    main()
