"""Screenshots of the Prefect UI after `mlplat up --env dev`: the provisioning run (its graph of
task runs) and its summary artifact, taken with headless Chromium (Debian's `chromium`
package: `apt-get install chromium`).

    python -m tests.e2e.ui_screenshot OUT_DIR

Starts its own sandbox and Prefect server (in a temporary state directory), provisions dev,
writes OUT_DIR/flow-run.png and OUT_DIR/artifact.png, then stops what it started."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
MLPLAT = [sys.executable, "-m", "mlplat_cli.main"]
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1600,1000",
    "--virtual-time-budget=20000",
)


def _api(url: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{url}/api{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def shoot(url: str, out: Path, profile: Path) -> None:
    """One screenshot of `url` once its scripts had time to render."""
    result = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={out}", url],
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0 or not out.exists():
        raise RuntimeError(f"chromium failed on {url}: {result.stderr[-2000:]}")


def capture(out_dir: Path) -> list[Path]:
    """Provision dev on a fresh sandbox and screenshot its run and summary artifact."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="mlplat-ui-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLPLAT_"))}
    env.update(
        MLPLAT_SANDBOX_STATE_DIR=str(work / "state"),
        PREFECT_HOME=str(work / "prefect"),
        HOME=str(work / "home"),
    )
    try:
        up = subprocess.run(
            [*MLPLAT, "up", "--env", "dev"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if up.returncode != 0:
            raise RuntimeError(f"mlplat up failed: {up.stderr[-3000:]}")
        ui = next(
            line.rsplit(": ", 1)[1].strip()
            for line in up.stdout.splitlines()
            if line.startswith("Prefect UI")
        )
        runs = _api(
            ui,
            "/flow_runs/filter",
            {"flow_runs": {"name": {"any_": ["provision-environment[dev]"]}}},
        )
        run_id = runs[0]["id"]
        artifacts = _api(ui, "/artifacts/filter", {"artifacts": {"key": {"any_": ["summary-dev"]}}})
        shots = [
            (f"{ui}/runs/flow-run/{run_id}", out_dir / "flow-run.png"),
            (f"{ui}/artifacts/artifact/{artifacts[0]['id']}", out_dir / "artifact.png"),
        ]
        for url, out in shots:
            shoot(url, out, work / "chromium")
        return [out for _, out in shots]
    finally:
        subprocess.run([*MLPLAT, "stop"], cwd=ROOT, env=env, capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="where to write the PNG files")
    args = parser.parse_args()
    for path in capture(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
