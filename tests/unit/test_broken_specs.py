"""`mlplat validate` rejects each broken spec of the table with a precise message."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlplat_cli.main import main
from tests.unit.spec_files import copy_reference, line_of, set_path

ROWS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "broken_specs.yaml").read_text()
)


@pytest.mark.parametrize("row", ROWS, ids=[row["id"] for row in ROWS])
def test_broken_spec_is_rejected_with_its_line(
    row: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_reference(tmp_path)
    file = root / row["file"]
    if "text" in row:
        file.write_text(row["text"])
    else:
        data = yaml.safe_load(file.read_text())
        for dotted, value in row.get("set", {}).items():
            set_path(data, dotted, value)
        if "drop" in row:
            del data[row["drop"]]
        file.write_text(yaml.safe_dump(data, sort_keys=False))
    expected = re.sub(r"\{line:([^}]+)\}", lambda m: str(line_of(file, m.group(1))), row["expect"])

    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        code = main(["validate", "infra_specs"])
    finally:
        os.chdir(cwd)

    err = capsys.readouterr().err
    assert code == 2
    assert expected in err, f"expected line not in stderr:\n{expected}\n---\n{err}"


def test_all_errors_are_reported_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = copy_reference(tmp_path)
    team = root / "teams" / "vision.yaml"
    data = yaml.safe_load(team.read_text())
    data["quota"]["gpu"] = -1
    data["colour"] = "blue"
    team.write_text(yaml.safe_dump(data))
    env = root / "environments" / "dev.yaml"
    env.write_text(env.read_text() + "project_id: Bad\n")

    assert main(["validate", str(root)]) == 2
    err = capsys.readouterr().err
    assert "teams.vision.quota.gpu" in err
    assert "teams.vision.colour: unknown key" in err
    assert "environments.dev.project_id" in err
    assert err.strip().endswith("3 problems")


def test_reference_spec_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "valid — platform 'mlp', 3 environments (dev, prod, staging), 2 teams" in out
