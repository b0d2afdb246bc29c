"""The committed JSON schema is current; quantities and GPU combinations parse as GKE expects."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from mlplat.specs.fields import parse_quantity
from mlplat.specs.gpus import gpu_combination_error
from mlplat.specs.schema import stale_schemas, write_schemas
from mlplat_cli.main import main
from tests.unit.spec_files import REFERENCE


def test_committed_schema_is_current() -> None:
    assert stale_schemas(REFERENCE / "schema") == [], "run `mlplat schema` and commit the result"


def test_schema_check_detects_a_stale_file(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    (tmp_path / "team.schema.json").write_text("{}")
    assert main(["schema", "--check", "--out", str(tmp_path)]) == 2
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert main(["schema", "--check", "--out", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("4", Decimal(4)),
        ("2Gi", Decimal(2 * 2**30)),
        ("1e3", Decimal(1000)),
        ("1.5k", Decimal(1500)),
    ],
)
def test_parse_quantity(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("machine", "gpu", "count", "ok"),
    [
        ("g2-standard-24", "nvidia-l4", 2, True),
        ("g2-standard-24", "nvidia-l4", 1, False),
        ("g2-standard-8", "nvidia-l4", 1, True),
        ("n1-standard-8", "nvidia-tesla-t4", 4, True),
        ("n1-standard-8", "nvidia-tesla-t4", 3, False),
        ("e2-standard-8", "nvidia-tesla-t4", 1, False),
        ("a2-highgpu-8g", "nvidia-tesla-a100", 8, True),
        ("a3-highgpu-8g", "nvidia-h100-80gb", 8, True),
        ("g2-standard-24", "nvidia-magic", 2, False),
    ],
)
def test_gpu_combinations(machine: str, gpu: str, count: int, ok: bool) -> None:
    assert (gpu_combination_error(machine, gpu, count) is None) is ok
