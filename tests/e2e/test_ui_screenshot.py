"""The Prefect UI shows a provisioning run's graph and its summary artifact (screenshots with
headless Chromium; skipped where Debian's chromium package is not installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.ui_screenshot import CHROMIUM, capture

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.timeout(900)
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium to run it")
def test_screenshots_of_run_and_artifact(tmp_path: Path) -> None:
    shots = capture(tmp_path)
    assert [p.name for p in shots] == ["flow-run.png", "artifact.png"]
    for shot in shots:
        data = shot.read_bytes()
        assert data.startswith(PNG) and len(data) > 50_000, "a rendered page, not a blank one"
