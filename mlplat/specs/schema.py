"""JSON schemas of the spec files, generated from the models, for editors and review."""

from __future__ import annotations

import json
from pathlib import Path

from mlplat.specs.models import Environment, Platform, Spec, Team

SCHEMAS: dict[str, type[Spec]] = {
    "platform.schema.json": Platform,
    "environment.schema.json": Environment,
    "team.schema.json": Team,
}


def render_schemas() -> dict[str, str]:
    """File name → JSON text of every spec schema, stable for diffs."""
    return {
        name: json.dumps(model.model_json_schema(), indent=2, sort_keys=True) + "\n"
        for name, model in SCHEMAS.items()
    }


def stale_schemas(directory: Path) -> list[str]:
    """Schema files under `directory` that are missing or differ from the models."""
    stale = []
    for name, text in render_schemas().items():
        file = directory / name
        if not file.is_file() or file.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema into `directory`; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        (directory / name).write_text(text, encoding="utf-8")
        written.append(directory / name)
    return written
