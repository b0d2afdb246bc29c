"""$MLPLAT_SANDBOX_ENDPOINTS, as the README says: every command uses the sandbox it names, and
starts none of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlplat_cli.session import sandbox_endpoints
from sandbox.cloud import Sandbox


def test_a_named_sandbox_is_used_and_none_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Sandbox(tmp_path / "theirs", apis=[], components=[]) as running:
        monkeypatch.setenv("MLPLAT_SANDBOX_ENDPOINTS", str(running.endpoints_path))
        mine = tmp_path / "mine"
        assert sandbox_endpoints(mine, "instant", 60.0) == running.endpoints_path
    assert not mine.exists()  # no state directory, no pid file, no second sandbox
    assert "(from $MLPLAT_SANDBOX_ENDPOINTS)" in capsys.readouterr().err


def test_a_named_sandbox_that_is_not_there_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPLAT_SANDBOX_ENDPOINTS", str(tmp_path / "gone" / "endpoints.json"))
    with pytest.raises(RuntimeError, match=r"\$MLPLAT_SANDBOX_ENDPOINTS names .*gone"):
        sandbox_endpoints(tmp_path / "mine", "instant", 60.0)
    assert not (tmp_path / "mine").exists()
